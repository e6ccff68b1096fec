import ChatAPI
import Foundation
import Synchronization
import Testing

/// Records the events the services publish, for tests that check what reaches the bus.
final class RecordingEvents: Sendable {
    private let events = Mutex<[ChatEvent]>([])
    var sink: ChatEventSink { ChatEventSink { [self] event in events.withLock { $0.append(event) } } }
    var all: [ChatEvent] { events.withLock { $0 } }

    /// The logins announced revoked, in order.
    var revokedLogins: [String] {
        all.compactMap { if case .loginRevoked(let loginId, _) = $0 { loginId } else { nil } }
    }
    /// The messages announced new.
    var newMessages: [MessageDTO] {
        all.compactMap { if case .messageNew(let message, _) = $0 { message } else { nil } }
    }
}

extension TestAPI {
    /// Registers with an invitation code (or none) and returns the reply, whatever it is.
    func register(_ name: String, inviteCode: String? = nil, email: String? = nil) async throws -> Reply {
        var body: [String: Any] = [
            "email": email ?? "\(name.lowercased())-\(UUID().uuidString.prefix(8))@example.com",
            "password": "correct horse battery", "displayName": name,
        ]
        if let inviteCode { body["inviteCode"] = inviteCode }
        return try await request(.post, "/auth/register", json: body)
    }

    /// A new invitation's code, made by `admin`.
    func invite(_ admin: Person, maxUses: Int? = nil, expiresInHours: Int? = nil) async throws -> String {
        var body: [String: Any] = [:]
        if let maxUses { body["maxUses"] = maxUses }
        if let expiresInHours { body["expiresInHours"] = expiresInHours }
        let reply = try await request(.post, "/admin/invites", as: admin, json: body)
        #expect(reply.status == .created, "invite: \(reply.status)")
        return try #require(reply.string("code"))
    }

    /// A bot made by `admin`: its user id and API token (as a `Person` whose access token is the bot token).
    func bot(_ admin: Person, name: String = "Deploy bot") async throws -> Person {
        let reply = try await request(.post, "/admin/bots", as: admin, json: ["displayName": name])
        #expect(reply.status == .created, "bot: \(reply.status)")
        let user = try #require(reply["user"] as? [String: Any])
        return Person(id: try #require(user["id"] as? String), accessToken: try #require(reply.string("token")), refreshToken: "")
    }

    func login(_ email: String, password: String = "correct horse battery") async throws -> Reply {
        try await request(.post, "/auth/login", json: ["email": email, "password": password])
    }

    /// The messages of a conversation as `person` pages them (newest page).
    func history(_ conversation: String, as person: Person) async throws -> [[String: Any]] {
        let reply = try await request(.get, "/conversations/\(conversation)/messages", as: person)
        #expect(reply.status == .ok)
        return reply["messages"] as? [[String: Any]] ?? []
    }
}
