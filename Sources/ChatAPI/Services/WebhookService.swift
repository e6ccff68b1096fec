import SQLKit

/// A webhook as its conversation's managers see it; `url` (holding the secret) only when it is
/// made, since only the secret's hash is kept.
public struct WebhookDTO: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var createdAt: Timestamp
    public var url: String?
}

/// Incoming webhooks (docs/protocol.md "Incoming webhooks"): a group's owner or admins make
/// one, and whoever holds its URL posts messages into the group under the webhook's name.
///
/// The URL is `/hooks/{id}/{secret}`: the id finds the webhook, the secret is compared with
/// the stored hash in constant time. Each webhook spends its own message budget (RATE_MESSAGES,
/// keyed by its id), as a user would.
public struct WebhookService: Sendable {
    let webhooks: WebhookStore
    let messages: MessageStore
    let conversations: ConversationStore
    let access: ConversationService
    let database: Database
    let clock: WallClock
    let events: ChatEventSink
    let rates: UserRateLimits

    /// Webhooks one conversation may have (409 `limit_reached` past it).
    public static let maxPerConversation = 20
    static let secretPrefix = "whs_"

    /// The caller's membership when they manage this group; `not_found` for non-members (as
    /// everywhere), `forbidden` for plain members and in DMs.
    private func requireManager(_ conversationId: String, _ caller: AuthContext) async throws {
        let membership = try await access.requireMember(conversationId, caller)
        guard membership.kind == .group else { throw APIError.forbidden("A DM has no webhooks.") }
        guard membership.role.canManage else { throw APIError.forbidden("Only the owner or an admin manages this group's webhooks.") }
    }

    /// Makes a webhook; returns it with the path of its URL (`/hooks/{id}/{secret}`), which
    /// the route completes with the server's origin.
    public func create(_ conversationId: String, name: String, _ caller: AuthContext) async throws -> (WebhookDTO, path: String) {
        try await requireManager(conversationId, caller)
        try Validate.text(name, field: "name", 1...64)
        let secret = SecretToken.generate(prefix: Self.secretPrefix)
        let record = WebhookRecord(id: Identifier.make("wh"), conversationId: conversationId, name: name, secretHash: secret.hash,
                                   createdBy: caller.userId, createdAt: clock.now())
        let webhooks = self.webhooks, conversations = self.conversations
        try await database.transaction { sql in
            // The conversation's row lock makes the count and the insert one step.
            try await conversations.lockForCount(conversationId: conversationId, userIds: [], on: sql)
            guard try await webhooks.count(conversationId: conversationId, on: sql) < Self.maxPerConversation else {
                throw APIError.limitReached("webhooks", "A conversation has at most \(Self.maxPerConversation) webhooks")
            }
            try await webhooks.insert(record, on: sql)
        }
        return (WebhookDTO(id: record.id, name: name, createdAt: record.createdAt, url: nil), "/hooks/\(record.id)/\(secret.value)")
    }

    public func list(_ conversationId: String, _ caller: AuthContext) async throws -> [WebhookDTO] {
        try await requireManager(conversationId, caller)
        return try await webhooks.list(conversationId: conversationId).map {
            WebhookDTO(id: $0.id, name: $0.name, createdAt: $0.createdAt, url: nil)
        }
    }

    /// Revokes a webhook: its URL answers 404 from now on.
    public func delete(_ conversationId: String, webhookId: String, _ caller: AuthContext) async throws {
        try await requireManager(conversationId, caller)
        guard webhookId.utf8.count <= 64, try await webhooks.delete(id: webhookId, conversationId: conversationId) else {
            throw APIError.notFound("No such webhook.")
        }
    }

    /// Posts `content` into the webhook's conversation under its name. An unknown webhook and a
    /// wrong secret are the same 404, so the URL cannot be probed.
    public func post(webhookId: String, secret: String, content: String) async throws -> MessageDTO {
        guard webhookId.utf8.count <= 64, secret.utf8.count <= 128, !webhookId.utf8.contains(0), !secret.utf8.contains(0),
              let webhook = try await webhooks.find(id: webhookId),
              SecretToken.constantTimeEquals(SecretToken.hash(of: secret), webhook.secretHash)
        else { throw APIError.notFound("No such webhook.") }
        try rates.spend(.message, userId: "webhook:\(webhook.id)")
        try Validate.content(content)
        let now = clock.now(), messages = self.messages, conversations = self.conversations
        return try await events.commit(database) { sql in
            try await conversations.touch(conversationId: webhook.conversationId, at: now, on: sql)
            let (seq, _) = try await messages.insert(
                conversationId: webhook.conversationId, senderId: webhook.createdBy, content: content, clientMsgId: nil, now: now,
                origin: .init(kind: .user, webhookId: webhook.id, webhookName: webhook.name), on: sql)
            let message = MessageDTO(
                id: MessageID.format(seq), conversationId: webhook.conversationId,
                sender: .init(id: webhook.id, displayName: webhook.name, kind: .webhook), content: content,
                clientMsgId: nil, createdAt: now, editedAt: nil, deletedAt: nil)
            let recipients = try await conversations.memberIds(conversationId: webhook.conversationId, on: sql)
            return (message, [.messageNew(message, recipients: recipients)])
        }
    }
}
