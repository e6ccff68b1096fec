import ChatAPI
import ChatTestSupport
import Foundation
import Hummingbird
import Testing

/// Incoming webhooks: managed by a group's owner and admins (members 403, outsiders 404, DMs
/// 403), posting `{content}` or `{text}` through the secret URL as the webhook, rate limited
/// per webhook, at most 20 per conversation, 404 once deleted or with a wrong secret.
@Suite("Incoming webhooks")
struct WebhookTests {
    /// The path of a webhook's URL (the part after the origin).
    static func path(of url: String) -> String {
        guard let range = url.range(of: "/hooks/") else { return url }
        return String(url[range.lowerBound...])
    }

    @Test("the owner makes a webhook; anyone with its URL posts into the group as the webhook", arguments: TestBackend.allCases)
    func postThroughURL(_ backend: TestBackend) async throws {
        let events = RecordingEvents()
        try await withAPI(backend, events: events.sink) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob")
            let group = try await api.createGroup(ada, members: [bob])
            let made = try await api.request(.post, "/conversations/\(group)/webhooks", as: ada, json: ["name": "CI"],
                                             headers: [.origin: "https://chat.example.com"])
            #expect(made.status == .created)
            let id = try #require(made.string("id"))
            let url = try #require(made.string("url"))
            #expect(url.hasPrefix("https://chat.example.com/hooks/\(id)/whs_"))
            #expect(made.string("name") == "CI")

            let posted = try await api.request(.post, Self.path(of: url), json: ["content": "deploy finished"])
            #expect(posted.status == .created)
            let sender = try #require(posted["sender"] as? [String: Any])
            #expect(sender["id"] as? String == id && sender["displayName"] as? String == "CI" && sender["kind"] as? String == "webhook")
            #expect(posted.string("kind") == "user")
            #expect(try await api.request(.post, Self.path(of: url), json: ["text": "Slack-style body"]).status == .created)
            #expect(try await api.request(.post, Self.path(of: url), json: ["other": "x"]).errorField == "content")
            #expect(try await api.request(.post, Self.path(of: url), json: ["content": ""]).errorField == "content")

            let history = try await api.history(group, as: bob)
            let hooked = history.filter { ($0["sender"] as? [String: Any])?["kind"] as? String == "webhook" }
            #expect(hooked.compactMap { $0["content"] as? String } == ["deploy finished", "Slack-style body"])
            #expect(events.newMessages.filter { $0.sender.kind == .webhook }.count == 2, "delivered like any message")
            // The maker cannot edit it (it is the webhook's); the owner may delete it as a moderator.
            let messageId = try #require(hooked.first?["id"] as? String)
            #expect(try await api.request(.patch, "/conversations/\(group)/messages/\(messageId)", as: ada, json: ["content": "x"])
                .status == .forbidden)
            #expect(try await api.request(.delete, "/conversations/\(group)/messages/\(messageId)", as: ada).status == .noContent)
            // It counts as unread for its maker too.
            let list = try await api.request(.get, "/conversations", as: ada)
            #expect(((list["conversations"] as? [[String: Any]])?.first?["unreadCount"] as? Int ?? 0) >= 1)
        }
    }

    @Test("a wrong secret, an unknown webhook and a deleted one are all 404", arguments: TestBackend.allCases)
    func secretAndRevocation(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada")
            let group = try await api.createGroup(ada, members: [])
            let made = try await api.request(.post, "/conversations/\(group)/webhooks", as: ada, json: ["name": "CI"])
            let id = try #require(made.string("id"))
            let path = Self.path(of: try #require(made.string("url")))
            let wrongSecret = String(path.dropLast()) + (path.hasSuffix("A") ? "B" : "A")
            #expect(try await api.request(.post, wrongSecret, json: ["content": "hi"]).status == .notFound)
            #expect(try await api.request(.post, "/hooks/wh_unknown/whs_x", json: ["content": "hi"]).status == .notFound)
            #expect(try await api.request(.post, path, json: ["content": "hi"]).status == .created)
            let listed = try await api.request(.get, "/conversations/\(group)/webhooks", as: ada)
            let entry = try #require((listed["webhooks"] as? [[String: Any]])?.first)
            #expect(entry["id"] as? String == id && entry["url"] == nil, "the URL is shown only when made")
            #expect(try await api.request(.delete, "/conversations/\(group)/webhooks/\(id)", as: ada).status == .noContent)
            #expect(try await api.request(.post, path, json: ["content": "hi"]).status == .notFound)
            #expect(try await api.request(.delete, "/conversations/\(group)/webhooks/\(id)", as: ada).status == .notFound)
        }
    }

    @Test("members who do not manage the group are 403, outsiders 404, and a DM has no webhooks", arguments: TestBackend.allCases)
    func permissions(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob"), eve = try await api.signUp("Eve")
            let group = try await api.createGroup(ada, members: [bob])
            let made = try await api.request(.post, "/conversations/\(group)/webhooks", as: ada, json: ["name": "CI"])
            let id = try #require(made.string("id"))
            for (method, path, body) in [(HTTPRequest.Method.post, "/conversations/\(group)/webhooks", ["name": "X"] as [String: Any]?),
                                         (.get, "/conversations/\(group)/webhooks", nil),
                                         (.delete, "/conversations/\(group)/webhooks/\(id)", nil)] {
                let member = try await api.request(method, path, as: bob, json: body)
                #expect(member.status == .forbidden && member.errorCode == "forbidden", "\(method) \(path)")
                #expect(try await api.request(method, path, as: eve, json: body).status == .notFound, "\(method) \(path)")
            }
            // An admin of the group may.
            #expect(try await api.request(.patch, "/conversations/\(group)/members/\(bob.id)", as: ada, json: ["role": "admin"])
                .status == .ok)
            #expect(try await api.request(.get, "/conversations/\(group)/webhooks", as: bob).status == .ok)
            let dm = try #require(try await api.request(.post, "/conversations", as: ada, json: ["kind": "dm", "userId": bob.id])
                .string("id"))
            #expect(try await api.request(.post, "/conversations/\(dm)/webhooks", as: ada, json: ["name": "X"]).status == .forbidden)
            for name in ["", "  ", String(repeating: "n", count: 65)] {
                #expect(try await api.request(.post, "/conversations/\(group)/webhooks", as: ada, json: ["name": name]).errorField == "name")
            }
        }
    }

    @Test("a webhook spends its own message budget, and a group has at most 20 webhooks", arguments: TestBackend.allCases)
    func limits(_ backend: TestBackend) async throws {
        var limits = ChatLimits.unlimited
        limits.messages = RateLimiter.Rule(limit: 2, windowMilliseconds: 10_000)
        try await withAPI(backend, limits: limits) { api in
            let ada = try await api.signUp("Ada")
            let group = try await api.createGroup(ada, members: [])
            var paths: [String] = []
            for index in 0..<WebhookService.maxPerConversation {
                let made = try await api.request(.post, "/conversations/\(group)/webhooks", as: ada, json: ["name": "Hook \(index)"])
                #expect(made.status == .created)
                paths.append(Self.path(of: try #require(made.string("url"))))
            }
            let over = try await api.request(.post, "/conversations/\(group)/webhooks", as: ada, json: ["name": "One too many"])
            #expect(over.status == .conflict && over.errorCode == "limit_reached")
            #expect(try await api.request(.post, paths[0], json: ["content": "1"]).status == .created)
            #expect(try await api.request(.post, paths[0], json: ["content": "2"]).status == .created)
            let limited = try await api.request(.post, paths[0], json: ["content": "3"])
            #expect(limited.status == .tooManyRequests && limited.errorCode == "rate_limited")
            // Another webhook, and the person who made them, have budgets of their own.
            #expect(try await api.request(.post, paths[1], json: ["content": "1"]).status == .created)
            #expect(try await api.send("mine", in: group, as: ada).status == .created)
            api.clock.advance(seconds: 10)
            #expect(try await api.request(.post, paths[0], json: ["content": "4"]).status == .created)
        }
    }
}
