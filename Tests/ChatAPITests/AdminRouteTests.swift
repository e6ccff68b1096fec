import ChatAPI
import ChatTestSupport
import Foundation
import Hummingbird
import Testing

/// `/admin/*` and the caller's own logins: who may use them (administrators only: members and
/// bots are 403), listing and searching accounts, deactivation (logins revoked, login refused,
/// tokens dead), the last-administrator rule, roles, password change and logout-all.
@Suite("Administration routes")
struct AdminRouteTests {
    /// Every administration route, with a body where it needs one.
    static var routes: [(HTTPRequest.Method, String, [String: Any]?)] { [
        (.post, "/admin/invites", [:]), (.get, "/admin/invites", nil), (.delete, "/admin/invites/somecode", nil),
        (.get, "/admin/users", nil), (.post, "/admin/users/ID/deactivate", nil), (.post, "/admin/users/ID/reactivate", nil),
        (.patch, "/admin/users/ID", ["role": "admin"]), (.post, "/admin/bots", ["displayName": "B"]), (.get, "/admin/bots", nil),
        (.delete, "/admin/bots/ID", nil),
    ] }

    @Test("every /admin route is 403 forbidden for a member and for a bot, 401 without a token", arguments: TestBackend.allCases)
    func forbiddenToOthers(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob")
            let bot = try await api.bot(ada)
            for (method, path, body) in Self.routes {
                let concrete = path.replacingOccurrences(of: "ID", with: ada.id)
                for caller in [bob, bot] {
                    let reply = try await api.request(method, concrete, as: caller, json: body)
                    #expect(reply.status == .forbidden && reply.errorCode == "forbidden", "\(method) \(path)")
                }
                #expect(try await api.request(method, concrete, json: body).status == .unauthorized, "\(method) \(path)")
            }
            // Nothing changed: Ada is still the administrator, Bob a member.
            let me = try await api.request(.get, "/users/me", as: ada)
            #expect(me.string("role") == "admin")
        }
    }

    @Test("GET /admin/users pages oldest first and searches name and email prefixes", arguments: TestBackend.allCases)
    func listUsers(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada", email: "ada@example.com")
            for (name, email) in [("Bob", "bob@example.com"), ("Bea", "zz-bea@example.com"), ("Cy", "cy@other.org")] {
                api.clock.advance(seconds: 1)
                _ = try await api.signUp(name, email: email)
            }
            var seen: [String] = []
            var cursor: String?
            repeat {
                let reply = try await api.request(.get, "/admin/users?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), as: ada)
                #expect(reply.status == .ok)
                let users = try #require(reply["users"] as? [[String: Any]])
                #expect(users.count <= 2)
                for user in users {
                    #expect(user["email"] is String && user["role"] is String && user.keys.contains("deactivatedAt"))
                }
                seen += users.compactMap { $0["displayName"] as? String }
                cursor = reply["nextCursor"] as? String
            } while cursor != nil
            #expect(seen == ["Ada", "Bob", "Bea", "Cy"])
            let byName = try await api.request(.get, "/admin/users?q=B", as: ada)
            #expect((byName["users"] as? [[String: Any]])?.compactMap { $0["displayName"] as? String } == ["Bob", "Bea"])
            let byEmail = try await api.request(.get, "/admin/users?q=zz-", as: ada)
            #expect((byEmail["users"] as? [[String: Any]])?.compactMap { $0["displayName"] as? String } == ["Bea"])
            let wildcard = try await api.request(.get, "/admin/users?q=%25", as: ada)
            #expect((wildcard["users"] as? [[String: Any]])?.count == 0)
            #expect(try await api.request(.get, "/admin/users?cursor=garbage", as: ada).errorField == "cursor")
            #expect(try await api.request(.get, "/admin/users?limit=0", as: ada).errorField == "limit")
        }
    }

    @Test("deactivation revokes every login, refuses login with account_deactivated and refresh; reactivation lets them back",
          arguments: TestBackend.allCases)
    func deactivation(_ backend: TestBackend) async throws {
        let events = RecordingEvents()
        try await withAPI(backend, events: events.sink) { api in
            let ada = try await api.signUp("Ada")
            let bob = try await api.signUp("Bob", email: "bob@example.com")
            let second = try TestAPI.person(from: try await api.login("bob@example.com"))
            #expect(try await api.request(.post, "/admin/users/\(bob.id)/deactivate", as: ada).status == .noContent)
            #expect(events.revokedLogins.count == 2, "both of Bob's logins are announced revoked")
            for token in [bob, second] {
                #expect(try await api.request(.get, "/users/me", as: token).status == .unauthorized)
                #expect(try await api.request(.post, "/auth/refresh", json: ["refreshToken": token.refreshToken]).status == .unauthorized)
            }
            let refused = try await api.login("bob@example.com")
            #expect(refused.status == .forbidden && refused.errorCode == "account_deactivated")
            // A wrong password is still just wrong: the deactivation shows only to the owner of the password.
            #expect(try await api.login("bob@example.com", password: "wrong password").errorCode == "invalid_credentials")
            let listed = try await api.request(.get, "/admin/users?q=bob", as: ada)
            #expect((listed["users"] as? [[String: Any]])?.first?["deactivatedAt"] is String)
            // Search no longer finds him.
            #expect((try await api.request(.get, "/users?q=Bob", as: ada)["users"] as? [Any])?.count == 0)
            #expect(try await api.request(.post, "/admin/users/\(bob.id)/deactivate", as: ada).status == .noContent, "idempotent")
            #expect(try await api.request(.post, "/admin/users/\(bob.id)/reactivate", as: ada).status == .noContent)
            let back = try await api.login("bob@example.com")
            #expect(back.status == .ok)
            #expect((back["user"] as? [String: Any])?["deactivatedAt"] is NSNull)
            #expect(try await api.request(.post, "/admin/users/u_nobody/deactivate", as: ada).status == .notFound)
            #expect(try await api.request(.post, "/admin/users/u_nobody/reactivate", as: ada).status == .notFound)
        }
    }

    @Test("the last active administrator can be neither demoted nor deactivated", arguments: TestBackend.allCases)
    func lastAdmin(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob")
            let demote = try await api.request(.patch, "/admin/users/\(ada.id)", as: ada, json: ["role": "member"])
            #expect(demote.status == .conflict && demote.errorCode == "conflict")
            let deactivate = try await api.request(.post, "/admin/users/\(ada.id)/deactivate", as: ada)
            #expect(deactivate.status == .conflict && deactivate.errorCode == "conflict")
            // With Bob an administrator too, Ada may step down; then Bob is the last one.
            #expect(try await api.request(.patch, "/admin/users/\(bob.id)", as: ada, json: ["role": "admin"]).status == .noContent)
            #expect(try await api.request(.patch, "/admin/users/\(ada.id)", as: ada, json: ["role": "member"]).status == .noContent)
            #expect(try await api.request(.get, "/admin/users", as: ada).status == .forbidden, "Ada is no longer an administrator")
            #expect(try await api.request(.patch, "/admin/users/\(bob.id)", as: bob, json: ["role": "member"]).errorCode == "conflict")
            // A deactivated administrator does not count.
            #expect(try await api.request(.patch, "/admin/users/\(ada.id)", as: bob, json: ["role": "admin"]).status == .noContent)
            #expect(try await api.request(.post, "/admin/users/\(ada.id)/deactivate", as: bob).status == .noContent)
            #expect(try await api.request(.post, "/admin/users/\(bob.id)/deactivate", as: bob).errorCode == "conflict")
        }
    }

    @Test("two administrators demoting each other at once: one of them stays", arguments: TestBackend.allCases)
    func concurrentDemotions(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob")
            #expect(try await api.request(.patch, "/admin/users/\(bob.id)", as: ada, json: ["role": "admin"]).status == .noContent)
            async let first = api.request(.patch, "/admin/users/\(bob.id)", as: ada, json: ["role": "member"])
            async let second = api.request(.patch, "/admin/users/\(ada.id)", as: bob, json: ["role": "member"])
            let statuses = [try await first.status, try await second.status]
            #expect(statuses.contains(.noContent))
            let admins = try await api.services.admin.listUsers(query: nil, limit: nil, cursor: nil).users.filter(\.isActiveAdmin)
            #expect(admins.count == 1)
        }
    }

    @Test("PATCH /admin/users/{id} checks its role and refuses bots and unknown users", arguments: TestBackend.allCases)
    func roles(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob")
            let bot = try await api.bot(ada)
            for role in ["bot", "owner", "root"] {
                #expect(try await api.request(.patch, "/admin/users/\(bob.id)", as: ada, json: ["role": role]).errorField == "role")
            }
            #expect(try await api.request(.patch, "/admin/users/\(bot.id)", as: ada, json: ["role": "admin"]).errorCode == "conflict")
            #expect(try await api.request(.patch, "/admin/users/u_nobody", as: ada, json: ["role": "admin"]).status == .notFound)
            #expect(try await api.request(.patch, "/admin/users/\(bob.id)", as: ada, json: ["role": "admin"]).status == .noContent)
            let bobMe = try await api.request(.get, "/users/me", as: bob)
            #expect(bobMe.string("role") == "admin")
            #expect(try await api.request(.get, "/admin/users", as: bob).status == .ok, "the new administrator may use /admin")
        }
    }

    @Test("a user seen by others carries role but not deactivatedAt", arguments: TestBackend.allCases)
    func rolesSeenByOthers(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob")
            let group = try await api.createGroup(ada, members: [bob])
            let seen = try await api.request(.get, "/conversations/\(group)", as: bob)
            let members = try #require(seen["members"] as? [[String: Any]])
            let adaSeen = try #require(members.first { ($0["user"] as? [String: Any])?["id"] as? String == ada.id }?["user"] as? [String: Any])
            #expect(adaSeen["role"] as? String == "admin")
            #expect(adaSeen["deactivatedAt"] == nil)
        }
    }

    @Test("POST /users/me/password checks the current password and ends every other login", arguments: TestBackend.allCases)
    func changePassword(_ backend: TestBackend) async throws {
        let events = RecordingEvents()
        try await withAPI(backend, events: events.sink) { api in
            let ada = try await api.signUp("Ada", email: "ada@example.com")
            let other = try TestAPI.person(from: try await api.login("ada@example.com"))
            let wrong = try await api.request(.post, "/users/me/password", as: ada,
                                              json: ["currentPassword": "not it at all", "newPassword": "a new password"])
            #expect(wrong.status == .forbidden && wrong.errorCode == "invalid_credentials")
            let short = try await api.request(.post, "/users/me/password", as: ada,
                                              json: ["currentPassword": "correct horse battery", "newPassword": "short"])
            #expect(short.errorField == "newPassword")
            #expect(try await api.request(.post, "/users/me/password", as: ada, json: ["newPassword": "a new password"])
                .errorField == "currentPassword")
            let changed = try await api.request(.post, "/users/me/password", as: ada,
                                                json: ["currentPassword": "correct horse battery", "newPassword": "a new password"])
            #expect(changed.status == .noContent)
            #expect(try await api.request(.get, "/users/me", as: ada).status == .ok, "this login goes on")
            #expect(try await api.request(.get, "/users/me", as: other).status == .unauthorized, "the other one ended")
            #expect(events.revokedLogins.count == 1)
            #expect(try await api.login("ada@example.com").errorCode == "invalid_credentials")
            #expect(try await api.login("ada@example.com", password: "a new password").status == .ok)
            #expect(try await api.request(.post, "/users/me/password", json: ["currentPassword": "x", "newPassword": "yyyyyyyy"])
                .status == .unauthorized)
        }
    }

    @Test("POST /auth/logout-all ends every login of the caller, this one included", arguments: TestBackend.allCases)
    func logoutAll(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada", email: "ada@example.com")
            let other = try TestAPI.person(from: try await api.login("ada@example.com"))
            let bob = try await api.signUp("Bob")
            #expect(try await api.request(.post, "/auth/logout-all").status == .unauthorized)
            #expect(try await api.request(.post, "/auth/logout-all", as: ada).status == .noContent)
            for person in [ada, other] {
                #expect(try await api.request(.get, "/users/me", as: person).status == .unauthorized)
                #expect(try await api.request(.post, "/auth/refresh", json: ["refreshToken": person.refreshToken]).status == .unauthorized)
            }
            #expect(try await api.request(.get, "/users/me", as: bob).status == .ok, "nobody else's")
        }
    }
}
