import ChatAPI
import ChatTestSupport
import Foundation
import Hummingbird
import Testing

/// REGISTRATION (invite, open, closed), the first account becoming the administrator, and
/// invitations: their uses, expiry (injected clock), deletion and one use per registration
/// under concurrency.
@Suite("Registration and invitations")
struct RegistrationTests {
    @Test("the first account of an empty server is let in under every policy and is its administrator",
          arguments: TestBackend.allCases, RegistrationPolicy.allCases)
    func firstAccount(_ backend: TestBackend, _ policy: RegistrationPolicy) async throws {
        try await withAPI(backend, registration: policy) { api in
            let first = try await api.register("Ada")
            #expect(first.status == .created)
            let user = try #require(first["user"] as? [String: Any])
            #expect(user["role"] as? String == "admin")
            #expect(user["deactivatedAt"] is NSNull, "the caller's own user shows deactivatedAt")
            let second = try await api.register("Bob")
            if policy == .open {
                #expect(second.status == .created)
                #expect((second["user"] as? [String: Any])?["role"] as? String == "member")
            } else {
                #expect(second.status == .forbidden)
                #expect(second.errorCode == "registration_closed")
            }
        }
    }

    @Test("under invite a valid code lets one person in per use; a missing, wrong or used-up code is registration_closed",
          arguments: TestBackend.allCases)
    func inviteUses(_ backend: TestBackend) async throws {
        try await withAPI(backend, registration: .invite) { api in
            let ada = try TestAPI.person(from: try await api.register("Ada"))
            let code = try await api.invite(ada, maxUses: 2)
            #expect(try await api.register("NoCode").errorCode == "registration_closed")
            #expect(try await api.register("Wrong", inviteCode: "not-a-real-code").errorCode == "registration_closed")
            #expect(try await api.register("Bob", inviteCode: code).status == .created)
            #expect(try await api.register("Cy", inviteCode: code).status == .created)
            let third = try await api.register("Dee", inviteCode: code)
            #expect(third.status == .forbidden && third.errorCode == "registration_closed")
            let listed = try await api.request(.get, "/admin/invites", as: ada)
            let invite = try #require((listed["invites"] as? [[String: Any]])?.first)
            #expect(invite["uses"] as? Int == 2 && invite["maxUses"] as? Int == 2)
            #expect(invite["code"] == nil && invite["url"] == nil, "the code is shown only when it is made")
        }
    }

    @Test("a refused registration (email taken) does not spend a use of the code", arguments: TestBackend.allCases)
    func failedRegistrationKeepsTheUse(_ backend: TestBackend) async throws {
        try await withAPI(backend, registration: .invite) { api in
            let ada = try TestAPI.person(from: try await api.register("Ada", email: "ada@example.com"))
            let code = try await api.invite(ada)
            #expect(try await api.register("Ada2", inviteCode: code, email: "ada@example.com").errorCode == "email_taken")
            #expect(try await api.register("Bob", inviteCode: code).status == .created)
        }
    }

    @Test("an invitation expires by the injected clock", arguments: TestBackend.allCases)
    func inviteExpiry(_ backend: TestBackend) async throws {
        try await withAPI(backend, registration: .invite) { api in
            let ada = try TestAPI.person(from: try await api.register("Ada"))
            let code = try await api.invite(ada, maxUses: 5, expiresInHours: 1)
            #expect(try await api.register("Bob", inviteCode: code).status == .created)
            api.clock.advance(seconds: 3600)
            let late = try await api.register("Cy", inviteCode: code)
            #expect(late.status == .forbidden && late.errorCode == "registration_closed")
        }
    }

    @Test("a deleted invitation lets nobody in; deleting by code or id, then again, is 404", arguments: TestBackend.allCases)
    func inviteDeletion(_ backend: TestBackend) async throws {
        try await withAPI(backend, registration: .invite) { api in
            let ada = try TestAPI.person(from: try await api.register("Ada"))
            let code = try await api.invite(ada)
            #expect(try await api.request(.delete, "/admin/invites/\(code)", as: ada).status == .noContent)
            #expect(try await api.register("Bob", inviteCode: code).errorCode == "registration_closed")
            #expect(try await api.request(.delete, "/admin/invites/\(code)", as: ada).status == .notFound)
            _ = try await api.invite(ada)
            let id = try #require(((try await api.request(.get, "/admin/invites", as: ada))["invites"] as? [[String: Any]])?
                .first?["id"] as? String)
            #expect(try await api.request(.delete, "/admin/invites/\(id)", as: ada).status == .noContent)
            #expect(try await api.request(.delete, "/admin/invites/\(id)", as: ada).status == .notFound)
        }
    }

    @Test("closed refuses everyone after the first, a valid invitation included", arguments: TestBackend.allCases)
    func closed(_ backend: TestBackend) async throws {
        try await withAPI(backend, registration: .closed) { api in
            let ada = try TestAPI.person(from: try await api.register("Ada"))
            let code = try await api.invite(ada)
            #expect(try await api.register("Bob", inviteCode: code).errorCode == "registration_closed")
        }
    }

    @Test("concurrent registrations with a one-use code: exactly one gets in", arguments: TestBackend.allCases)
    func oneUseUnderConcurrency(_ backend: TestBackend) async throws {
        try await withAPI(backend, registration: .invite) { api in
            let ada = try TestAPI.person(from: try await api.register("Ada"))
            let code = try await api.invite(ada, maxUses: 1)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<6 { group.addTask { try await api.register("Racer\(index)", inviteCode: code).status } }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .created }.count == 1)
            #expect(statuses.filter { $0 == .forbidden }.count == 5)
        }
    }

    @Test("concurrent first registrations of an empty server: one administrator, the rest refused under invite",
          arguments: TestBackend.allCases)
    func firstUnderConcurrency(_ backend: TestBackend) async throws {
        try await withAPI(backend, registration: .invite) { api in
            let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
                for index in 0..<4 { group.addTask { try await api.register("First\(index)") } }
                return try await group.reduce(into: [Reply]()) { $0.append($1) }
            }
            #expect(replies.filter { $0.status == .created }.count == 1)
            #expect(replies.filter { $0.errorCode == "registration_closed" }.count == 3)
        }
    }

    @Test("an invitation's fields are checked; its url opens the web client's sign-up with the code",
          arguments: TestBackend.allCases)
    func inviteFieldsAndURL(_ backend: TestBackend) async throws {
        try await withAPI(backend, registration: .invite) { api in
            let ada = try TestAPI.person(from: try await api.register("Ada"))
            for (field, value) in [("maxUses", 0), ("maxUses", 1001), ("expiresInHours", 0), ("expiresInHours", 721)] {
                let reply = try await api.request(.post, "/admin/invites", as: ada, json: [field: value])
                #expect(reply.status == .unprocessableContent && reply.errorField == field, "\(field)=\(value)")
            }
            #expect(try await api.request(.post, "/admin/invites", as: ada, json: ["maxUses": "two"]).errorField == "maxUses")
            let made = try await api.request(.post, "/admin/invites", as: ada, json: [:],
                                             headers: [.origin: "https://chat.example.com"])
            #expect(made.status == .created)
            let code = try #require(made.string("code"))
            #expect(made.string("url") == "https://chat.example.com/#/signup?invite=\(code)")
            #expect(made["maxUses"] as? Int == 1 && made["uses"] as? Int == 0)
            let expires = try #require(made.string("expiresAt"))
            let created = try #require(made.string("createdAt"))
            #expect(expires > created)
        }
        try await withAPI(backend, registration: .invite, publicURL: "https://parley.example.org") { api in
            let ada = try TestAPI.person(from: try await api.register("Ada"))
            let made = try await api.request(.post, "/admin/invites", as: ada, json: [:], headers: [.origin: "https://elsewhere.example"])
            #expect(made.string("url")?.hasPrefix("https://parley.example.org/#/signup?invite=") == true)
        }
    }

    @Test("an inviteCode that is not a string, or too long, is a 422 naming it", arguments: TestBackend.allCases)
    func badInviteCode(_ backend: TestBackend) async throws {
        try await withAPI(backend, registration: .invite) { api in
            _ = try await api.register("Ada")
            let reply = try await api.request(.post, "/auth/register", json: [
                "email": "bob@example.com", "password": "long enough", "displayName": "Bob", "inviteCode": 7,
            ])
            #expect(reply.errorField == "inviteCode")
            #expect(try await api.register("Bob", inviteCode: String(repeating: "x", count: 65)).errorField == "inviteCode")
        }
    }
}
