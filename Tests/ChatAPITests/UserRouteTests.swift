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

    @Test("user search matches display-name prefixes and whole email addresses, case-insensitively", arguments: TestBackend.allCases)
    func search(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada", email: "ada@example.com")
            _ = try await api.signUp("Adam", email: "zed@example.com")
            _ = try await api.signUp("Bob", email: "bob@example.com")
            _ = try await api.signUp("100%_real", email: "pct@example.com")
            let byName = try await api.request(.get, "/users?q=AD", as: ada)
            let names = (byName["users"] as? [[String: Any]] ?? []).compactMap { $0["displayName"] as? String }
            #expect(names == ["Ada", "Adam"])
            let adam = (byName["users"] as? [[String: Any]])?.first { $0["displayName"] as? String == "Adam" }
            #expect(adam != nil && adam?["email"] == nil, "a stranger's email is private")
            // An email is found only whole: a prefix cannot probe addresses letter by letter.
            let byPrefix = try await api.request(.get, "/users?q=zed", as: ada)
            #expect((byPrefix["users"] as? [[String: Any]])?.count == 0)
            let byEmail = try await api.request(.get, "/users?q=ZED%40Example.com", as: ada)
            #expect((byEmail["users"] as? [[String: Any]])?.compactMap { $0["displayName"] as? String } == ["Adam"])
            #expect((try await api.request(.get, "/users?q=zed%40example.co", as: ada)["users"] as? [Any])?.count == 0)
            // Pasted with spaces around, and an address longer than any name prefix (up to 254).
            let padded = try await api.request(.get, "/users?q=+zed%40example.com+", as: ada)
            #expect((padded["users"] as? [[String: Any]])?.compactMap { $0["displayName"] as? String } == ["Adam"])
            let longEmail = String(repeating: "l", count: 120) + "@example.com"
            _ = try await api.signUp("Long", email: longEmail)
            let long = try await api.request(.get, "/users?q=\(longEmail.replacingOccurrences(of: "@", with: "%40"))", as: ada)
            #expect((long["users"] as? [[String: Any]])?.compactMap { $0["displayName"] as? String } == ["Long"])
            #expect(try await api.request(.get, "/users?q=\(String(repeating: "a", count: 255))", as: ada).errorField == "q")
            let limited = try await api.request(.get, "/users?q=a&limit=1", as: ada)
            #expect((limited["users"] as? [[String: Any]])?.count == 1)
            // LIKE wildcards in the query are literal characters.
            let wildcard = try await api.request(.get, "/users?q=%25", as: ada)
            #expect((wildcard["users"] as? [[String: Any]])?.count == 0)
            let literal = try await api.request(.get, "/users?q=100%25_", as: ada)
            #expect((literal["users"] as? [[String: Any]])?.count == 1)

            #expect(try await api.request(.get, "/users", as: ada).errorField == "q")
            #expect(try await api.request(.get, "/users?q=+", as: ada).errorField == "q")
            #expect(try await api.request(.get, "/users?q=a&limit=0", as: ada).errorField == "limit")
            #expect(try await api.request(.get, "/users?q=a&limit=x", as: ada).errorField == "limit")
            #expect(try await api.request(.get, "/users?q=a").status == .unauthorized)
        }
    }

    @Test("search shows the email of people one shares a conversation with, and no one else's", arguments: TestBackend.allCases)
    func searchTellsNamesakesApart(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada", email: "ada@example.com")
            let colleague = try await api.signUp("Sam", email: "sam.colleague@example.com")
            let stranger = try await api.signUp("Sam", email: "sam.stranger@example.com")
            _ = try await api.createGroup(ada, members: [colleague])
            let found = try await api.request(.get, "/users?q=Sam", as: ada)["users"] as? [[String: Any]] ?? []
            #expect(found.count == 2)
            #expect(Set(found.map { $0["email"] as? String }) == [Optional("sam.colleague@example.com"), nil])
            let byColleague = try await api.request(.get, "/users?q=Ada", as: colleague)["users"] as? [[String: Any]]
            #expect(byColleague?.first?["email"] as? String == "ada@example.com", "shares a group with Ada")
            // A stranger finds Ada by name or by her whole address, and sees no address either way.
            for query in ["Ada", "ada%40example.com"] {
                let seen = try await api.request(.get, "/users?q=\(query)", as: stranger)["users"] as? [[String: Any]]
                #expect(seen?.count == 1 && seen?.first?["email"] == nil)
            }
        }
    }

    @Test("a whole multi-word display name is found, however the space is encoded", arguments: TestBackend.allCases)
    func multiWordSearch(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada")
            _ = try await api.signUp("Lone abc123", email: "lone@example.com")
            _ = try await api.signUp("Lone+Plus", email: "plus@example.com")
            for query in ["Lone+abc123", "Lone%20abc123", "lone%20ABC", "Lone"] {
                let names = (try await api.request(.get, "/users?q=\(query)", as: ada)["users"] as? [[String: Any]] ?? [])
                    .compactMap { $0["displayName"] as? String }
                #expect(names.contains("Lone abc123"), "q=\(query) gave \(names)")
            }
            let plus = (try await api.request(.get, "/users?q=Lone%2BP", as: ada)["users"] as? [[String: Any]] ?? [])
                .compactMap { $0["displayName"] as? String }
            #expect(plus == ["Lone+Plus"], "%2B is a literal plus sign")
        }
    }

    @Test("presence shows only to users who share a conversation", arguments: TestBackend.allCases)
    func presenceOfStrangers(_ backend: TestBackend) async throws {
        try await withAPI(backend, presence: PresenceLookup { _ in true }) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob"), eve = try await api.signUp("Eve")
            try await api.services.users.setLastSeen(id: ada.id, at: Timestamp(milliseconds: 1_795_000_000_000))
            _ = try await api.createGroup(ada, members: [bob])
            let asFriend = try #require((try await api.request(.get, "/users?q=Ada", as: bob)["users"] as? [[String: Any]])?.first)
            #expect(asFriend["online"] as? Bool == true)
            #expect(asFriend["lastSeenAt"] as? String != nil)
            let asStranger = try #require((try await api.request(.get, "/users?q=Ada", as: eve)["users"] as? [[String: Any]])?.first)
            #expect(asStranger["online"] as? Bool == false)
            #expect(asStranger["lastSeenAt"] is NSNull)
            let herself = try #require((try await api.request(.get, "/users?q=Eve", as: eve)["users"] as? [[String: Any]])?.first)
            #expect(herself["online"] as? Bool == true, "one's own presence shows")
        }
    }
}
