import ChatAPI
import ChatTestSupport
import Foundation
import Hummingbird
import Testing

/// Bots: made by an administrator with an API token shown once, usable as a bearer token on
/// REST; no password login; added to conversations like anyone; deleted (token revoked).
@Suite("Bots")
struct BotTests {
    @Test("POST /admin/bots makes a bot whose token works as a bearer token, without expiry", arguments: TestBackend.allCases)
    func tokenOnREST(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada")
            let made = try await api.request(.post, "/admin/bots", as: ada, json: ["displayName": "Deploy bot"])
            #expect(made.status == .created)
            let user = try #require(made["user"] as? [String: Any])
            #expect(user["role"] as? String == "bot" && user["displayName"] as? String == "Deploy bot")
            let token = try #require(made.string("token"))
            #expect(token.hasPrefix("pbot_") && token.count > 40)
            let bot = Person(id: try #require(user["id"] as? String), accessToken: token, refreshToken: "")
            let me = try await api.request(.get, "/users/me", as: bot)
            #expect(me.status == .ok && me.string("role") == "bot")
            // Long after any access token would have expired.
            api.clock.advance(seconds: 400 * 24 * 3600)
            #expect(try await api.request(.get, "/users/me", as: bot).status == .ok)
            // Near misses are refused.
            let wrong = Person(id: bot.id, accessToken: String(token.dropLast()) + (token.hasSuffix("A") ? "B" : "A"), refreshToken: "")
            #expect(try await api.request(.get, "/users/me", as: wrong).status == .unauthorized)
            let huge = Person(id: bot.id, accessToken: "pbot_" + String(repeating: "a", count: 300), refreshToken: "")
            #expect(try await api.request(.get, "/users/me", as: huge).status == .unauthorized)
        }
    }

    @Test("a bot is added to a group and sends messages like anyone; it has no password login", arguments: TestBackend.allCases)
    func chatsLikeAnyone(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob")
            let bot = try await api.bot(ada)
            let group = try await api.createGroup(ada, members: [bob])
            #expect(try await api.request(.post, "/conversations/\(group)/members", as: ada, json: ["userId": bot.id]).status == .created)
            let sent = try await api.send("build 42 passed", in: group, as: bot)
            #expect(sent.status == .created)
            #expect((sent["sender"] as? [String: Any])?["kind"] as? String == "user")
            let found = try await api.request(.get, "/users?q=Deploy", as: bob)
            #expect((found["users"] as? [[String: Any]])?.first?["role"] as? String == "bot")
            // No password of any kind opens a bot: not its placeholder, not "!".
            let listed = try await api.request(.get, "/admin/bots", as: ada)
            let email = try #require((listed["bots"] as? [[String: Any]])?.first?["email"] as? String)
            for password in ["!", "correct horse battery", ""] {
                #expect(try await api.login(email, password: password).status == .unauthorized)
            }
            let change = try await api.request(.post, "/users/me/password", as: bot,
                                               json: ["currentPassword": "whatever1", "newPassword": "whatever2"])
            #expect(change.status == .forbidden)
        }
    }

    @Test("GET /admin/bots lists bots; DELETE revokes the token, then 404", arguments: TestBackend.allCases)
    func listAndDelete(_ backend: TestBackend) async throws {
        let events = RecordingEvents()
        try await withAPI(backend, events: events.sink) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob")
            let first = try await api.bot(ada, name: "One")
            api.clock.advance(seconds: 1)
            let second = try await api.bot(ada, name: "Two")
            let listed = try await api.request(.get, "/admin/bots", as: ada)
            #expect((listed["bots"] as? [[String: Any]])?.compactMap { $0["displayName"] as? String } == ["One", "Two"])
            #expect(try await api.request(.delete, "/admin/bots/\(first.id)", as: ada).status == .noContent)
            #expect(events.revokedLogins.count == 1, "its WebSockets are told to close")
            #expect(try await api.request(.get, "/users/me", as: first).status == .unauthorized)
            #expect(try await api.request(.get, "/users/me", as: second).status == .ok)
            #expect(try await api.request(.delete, "/admin/bots/\(first.id)", as: ada).status == .notFound)
            #expect(try await api.request(.delete, "/admin/bots/\(bob.id)", as: ada).status == .notFound, "a person is no bot")
            let after = try await api.request(.get, "/admin/bots", as: ada)
            #expect((after["bots"] as? [[String: Any]])?.compactMap { $0["displayName"] as? String } == ["Two"])
            // Deactivating a bot also stops its token.
            #expect(try await api.request(.post, "/admin/users/\(second.id)/deactivate", as: ada).status == .noContent)
            #expect(try await api.request(.get, "/users/me", as: second).status == .unauthorized)
        }
    }

    @Test("a bot's display name is checked, and a server has at most 100 bots", arguments: TestBackend.allCases)
    func limits(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada")
            for name in ["", " ", String(repeating: "b", count: 65)] {
                #expect(try await api.request(.post, "/admin/bots", as: ada, json: ["displayName": name]).errorField == "displayName")
            }
            for index in 0..<AdminService.maxBots { _ = try await api.services.admin.createBot(displayName: "Bot \(index)", createdBy: ada.id) }
            let over = try await api.request(.post, "/admin/bots", as: ada, json: ["displayName": "One too many"])
            #expect(over.status == .conflict && over.errorCode == "limit_reached")
        }
    }
}
