import ChatAPI
import ChatTestSupport
import Foundation
import Hummingbird
import Testing

@Suite("User routes")
struct UserRouteTests {
    @Test("GET and PATCH /users/me", arguments: TestBackend.allCases)
    func me(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada", email: "ada@example.com")
            let me = try await api.request(.get, "/users/me", as: ada)
            #expect(me.status == .ok)
            #expect(me.string("email") == "ada@example.com")
            #expect(me["online"] as? Bool == false)

            let patched = try await api.request(.patch, "/users/me", as: ada,
                                                json: ["displayName": "Ada L.", "avatarUrl": "https://example.com/a.png"])
            #expect(patched.status == .ok)
            #expect(patched.string("displayName") == "Ada L.")
            #expect(patched.string("avatarUrl") == "https://example.com/a.png")

            let cleared = try await api.request(.patch, "/users/me", as: ada, json: ["avatarUrl": NSNull()])
            #expect(cleared["avatarUrl"] is NSNull)
            #expect(cleared.string("displayName") == "Ada L.")
        }
    }

    @Test("PATCH /users/me refuses bad fields", arguments: TestBackend.allCases)
    func patchInvalid(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada")
            for (field, value) in [("displayName", "" as Any), ("displayName", 7), ("avatarUrl", "javascript:alert(1)"),
                                   ("avatarUrl", "https://" + String(repeating: "a", count: 2050))] {
                let reply = try await api.request(.patch, "/users/me", as: ada, json: [field: value])
                #expect(reply.status == .unprocessableContent, "\(field)")
                #expect(reply.errorField == field)
            }
            #expect(try await api.request(.patch, "/users/me").status == .unauthorized)
        }
    }

    @Test("user search matches display name or email prefix, case-insensitively", arguments: TestBackend.allCases)
    func search(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada", email: "ada@example.com")
            _ = try await api.signUp("Adam", email: "zed@example.com")
            _ = try await api.signUp("Bob", email: "bob@example.com")
            _ = try await api.signUp("100%_real", email: "pct@example.com")
            let byName = try await api.request(.get, "/users?q=AD", as: ada)
            let names = (byName["users"] as? [[String: Any]] ?? []).compactMap { $0["displayName"] as? String }
            #expect(names == ["Ada", "Adam"])
            #expect((byName["users"] as? [[String: Any]])?.first?["email"] == nil, "others' emails are private")
            let byEmail = try await api.request(.get, "/users?q=zed", as: ada)
            #expect((byEmail["users"] as? [[String: Any]])?.count == 1)
            let limited = try await api.request(.get, "/users?q=a&limit=1", as: ada)
            #expect((limited["users"] as? [[String: Any]])?.count == 1)
            // LIKE wildcards in the query are literal characters.
            let wildcard = try await api.request(.get, "/users?q=%25", as: ada)
            #expect((wildcard["users"] as? [[String: Any]])?.count == 0)
            let literal = try await api.request(.get, "/users?q=100%25_", as: ada)
            #expect((literal["users"] as? [[String: Any]])?.count == 1)

            #expect(try await api.request(.get, "/users", as: ada).errorField == "q")
            #expect(try await api.request(.get, "/users?q=a&limit=0", as: ada).errorField == "limit")
            #expect(try await api.request(.get, "/users?q=a&limit=x", as: ada).errorField == "limit")
            #expect(try await api.request(.get, "/users?q=a").status == .unauthorized)
        }
    }
}
