import Metrics

/// Sending, paging, editing, deleting and reading messages. REST routes and WebSocket frames
/// both call these, so both produce the same events. A send returns only after its
/// transaction has committed: an acknowledged message is stored.
public struct MessageService: Sendable {
    let messages: MessageStore
    let conversations: ConversationStore
    let access: ConversationService
    let database: Database
    let clock: WallClock
    let events: ChatEventSink
    let rates: UserRateLimits
    let system: SystemMessages
    let files: AttachmentService

    public static let defaultPageSize = 50
    public static let maxPageSize = 100

    /// Stores a message; a repeat of the sender's `clientMsgId` returns the first message with
    /// `created: false` and publishes nothing. `attachmentIds` are the sender's complete uploads
    /// to this conversation (at most ten); with them, `content` may be empty.
    public func send(_ conversationId: String, content: String, clientMsgId: String?, attachmentIds: [String] = [],
                     _ caller: AuthContext) async throws -> (message: MessageDTO, created: Bool)
    {
        // One budget per user, spent before any database work, whichever way the message came.
        try rates.spend(.message, userId: caller.userId)
        _ = try await access.requireMember(conversationId, caller)
        if attachmentIds.isEmpty || !content.isEmpty { try Validate.content(content) }
        if let clientMsgId { try Validate.identifier(clientMsgId, field: "clientMsgId") }
        try AttachmentService.validateIds(attachmentIds)
        try await files.verify(attachmentIds, caller)
        let now = clock.now()
        let messages = self.messages, conversations = self.conversations
        let result = try await events.commit(database) { sql in
            // Touching the conversation first takes its row lock, so within one conversation
            // sequence numbers are assigned, committed and announced in the same order.
            try await conversations.touch(conversationId: conversationId, at: now, on: sql)
            let (seq, created) = try await messages.insert(
                conversationId: conversationId, senderId: caller.userId, content: content,
                clientMsgId: clientMsgId, now: now, on: sql)
            guard created else {
                guard let first = try await messages.find(seq: seq, conversationId: conversationId, withAttachments: true, on: sql) else {
                    throw APIError.internalError
                }
                return ((first, false), [])
            }
            var attached: [AttachmentDTO] = []
            if !attachmentIds.isEmpty {
                let linked = try await AttachmentStore.link(
                    attachmentIds, uploaderId: caller.userId, conversationId: conversationId, seq: seq, on: sql)
                guard linked.count == attachmentIds.count else {
                    throw APIError.invalidField("attachmentIds", "Each attachment must be a complete upload of yours to this conversation, not sent before.")
                }
                let byId = Dictionary(uniqueKeysWithValues: linked.map { ($0.id, $0.dto) })
                attached = attachmentIds.compactMap { byId[$0] }
            }
            // A new message is exactly what was just inserted: no need to read it back. One query
            // gives both the recipients and the sender's name.
            let members = try await conversations.memberNames(conversationId: conversationId, on: sql)
            guard let sender = members.first(where: { $0.id == caller.userId }) else {
                throw APIError.notFound("No such conversation.")
            }
            var message = MessageDTO(
                id: MessageID.format(seq), conversationId: conversationId,
                sender: .init(id: caller.userId, displayName: sender.displayName), content: content,
                clientMsgId: clientMsgId, createdAt: now, editedAt: nil, deletedAt: nil)
            message.attachments = attached
            return ((message, true), [.messageNew(message, recipients: members.map(\.id))])
        }
        if result.1 { Self.sentCounter.increment() }
        return result
    }

    /// `parley_messages_sent_total`: messages stored (repeats of a clientMsgId not counted).
    static let sentCounter = Counter(label: "parley_messages_sent_total")

    public func page(_ conversationId: String, before: String?, after: String?, limit rawLimit: String?, _ caller: AuthContext)
        async throws -> (messages: [MessageDTO], hasMore: Bool)
    {
        _ = try await access.requireMember(conversationId, caller)
        let limit = try Validate.limit(rawLimit, default: Self.defaultPageSize, cap: Self.maxPageSize)
        let cursor: MessageStore.Cursor
        switch (before, after) {
        case (nil, nil): cursor = .newest
        case (let id?, nil): cursor = .before(try await cursorSeq(id, field: "before", conversationId))
        case (nil, let id?): cursor = .after(try await cursorSeq(id, field: "after", conversationId))
        case (.some, .some): throw APIError.invalidField("before", "Give before or after, not both.")
        }
        return try await messages.page(conversationId: conversationId, cursor: cursor, limit: limit)
    }

    private func cursorSeq(_ id: String, field: String, _ conversationId: String) async throws -> Int64 {
        guard let seq = MessageID.parse(id), try await messages.find(seq: seq, conversationId: conversationId) != nil else {
            throw APIError.invalidField(field, "\(field) is not a message of this conversation.")
        }
        return seq
    }

    /// Replaces the content of the caller's own message.
    public func edit(_ conversationId: String, messageId: String, content: String, _ caller: AuthContext) async throws -> MessageDTO {
        _ = try await access.requireMember(conversationId, caller)
        let (seq, message) = try await existing(messageId, in: conversationId)
        guard message.isWritten(by: caller.userId) else { throw APIError.forbidden("Only the author edits a message.") }
        try Validate.content(content)
        let messages = self.messages, conversations = self.conversations, now = clock.now()
        return try await events.commit(database) { sql in
            try await messages.edit(seq: seq, content: content, now: now, on: sql)
            guard let updated = try await messages.find(seq: seq, conversationId: conversationId, withAttachments: true, on: sql) else {
                throw APIError.internalError
            }
            let recipients = try await conversations.memberIds(conversationId: conversationId, on: sql)
            return (updated, [.messageUpdated(updated, recipients: recipients)])
        }
    }

    /// Tombstones a message: the author may, and in a group the owner and admins may.
    /// Deleting an already deleted message succeeds and changes nothing.
    public func delete(_ conversationId: String, messageId: String, _ caller: AuthContext) async throws {
        let membership = try await access.requireMember(conversationId, caller)
        guard let seq = MessageID.parse(messageId),
              let message = try await messages.find(seq: seq, conversationId: conversationId)
        else { throw APIError.notFound("No such message.") }
        let moderator = membership.kind == .group && membership.role.canManage
        guard message.isWritten(by: caller.userId) || moderator else {
            throw APIError.forbidden("Only the author or a group owner or admin deletes a message.")
        }
        guard message.deletedAt == nil else { return }
        let messages = self.messages, conversations = self.conversations, now = clock.now()
        // Its files go with it: marked in the same transaction, so no member reaches them after
        // the delete is acknowledged, then removed from the storage (the sweep retries a failure).
        let discarded = try await events.commit(database) { sql in
            try await messages.tombstone(seq: seq, now: now, on: sql)
            let discarded = try await AttachmentStore.discard(messageSeq: seq, at: now, on: sql)
            let recipients = try await conversations.memberIds(conversationId: conversationId, on: sql)
            return (discarded, [.messageDeleted(conversationId: conversationId, messageId: messageId, recipients: recipients)])
        }
        await files.removeDiscarded(discarded)
    }

    /// Moves the caller's read marker forward to `messageId`.
    public func markRead(_ conversationId: String, messageId: String, _ caller: AuthContext) async throws {
        _ = try await access.requireMember(conversationId, caller)
        guard let seq = MessageID.parse(messageId), try await messages.find(seq: seq, conversationId: conversationId) != nil else {
            throw APIError.invalidField("messageId", "messageId is not a message of this conversation.")
        }
        let conversations = self.conversations
        try await events.commit(database) { sql in
            // Announced only when the marker moved: a stale `read` must not move receipts back.
            guard try await conversations.setReadMarker(conversationId: conversationId, userId: caller.userId, seq: seq, on: sql)
            else { return ((), []) }
            let recipients = try await conversations.memberIds(conversationId: conversationId, on: sql)
            return ((), [.readUpdated(conversationId: conversationId, userId: caller.userId, messageId: messageId, recipients: recipients)])
        }
    }

    /// Records a system message that no request of a member makes: a call started or ended
    /// (`CallSignaling` calls this). `senderId` is the user it is recorded under. Announced as
    /// `message.new` to the members.
    /// Whether `userId` may have a system line recorded for something they did outside a
    /// request that already paid for it (starting a call): it spends their message budget, so
    /// joining and leaving calls in a loop cannot grow the history without bound.
    public func spendForSystemLine(by userId: String) -> Bool {
        (try? rates.spend(.message, userId: userId)) != nil
    }

    public func postSystem(_ event: SystemEvent, in conversationId: String, senderId: String) async throws {
        let system = self.system, now = clock.now()
        try await events.commit(database) { sql in
            let (_, announced) = try await system.record(event, in: conversationId, senderId: senderId, now: now, on: sql)
            return ((), [announced])
        }
    }

    /// A live (not deleted) message of this conversation, or `not_found`.
    private func existing(_ messageId: String, in conversationId: String) async throws -> (Int64, MessageDTO) {
        guard let seq = MessageID.parse(messageId),
              let message = try await messages.find(seq: seq, conversationId: conversationId),
              message.deletedAt == nil
        else { throw APIError.notFound("No such message.") }
        return (seq, message)
    }
}

extension MessageDTO {
    /// Whether `userId` wrote this message themself: not a system line recorded under their
    /// name, nor a webhook's post.
    func isWritten(by userId: String) -> Bool {
        kind == .user && sender.kind == .user && sender.id == userId
    }
}
