import SQLKit

/// Messages: insertion (idempotent on the sender's clientMsgId), cursor pages, edits and
/// tombstones. Order is the stored sequence, which message ids encode (`MessageID`).
public struct MessageStore: Sendable {
    let database: Database

    /// Columns for `message(row:)`; the query aliases messages as `msg` and users as `u`.
    static let columns = """
        msg.seq, msg.conversation_id, msg.sender_id, u.display_name AS sender_name, msg.content, msg.client_msg_id,
        msg.created_at, msg.edited_at, msg.deleted_at, msg.kind AS msg_kind, msg.system_event, msg.webhook_id, msg.webhook_name
        """

    static func message(row: any SQLRow) throws -> MessageDTO {
        let kind = MessageDTO.Kind(rawValue: try row.decode(column: "msg_kind", as: String.self)) ?? .user
        let sender: MessageDTO.Sender
        if let webhookId = try row.decode(column: "webhook_id", as: String?.self) {
            sender = .init(id: webhookId, displayName: try row.decode(column: "webhook_name", as: String?.self) ?? "", kind: .webhook)
        } else {
            sender = .init(id: try row.decode(column: "sender_id", as: String.self),
                           displayName: try row.decode(column: "sender_name", as: String.self))
        }
        let system = try row.decode(column: "system_event", as: String?.self).flatMap(SystemEvent.decode(stored:))
        return MessageDTO(
            id: MessageID.format(try row.decode(column: "seq", as: Int64.self)),
            conversationId: try row.decode(column: "conversation_id", as: String.self),
            sender: sender,
            content: try row.decode(column: "content", as: String.self),
            clientMsgId: try row.decode(column: "client_msg_id", as: String?.self),
            createdAt: Timestamp(milliseconds: try row.decode(column: "created_at", as: Int64.self)),
            editedAt: try row.decode(column: "edited_at", as: Int64?.self).map(Timestamp.init(milliseconds:)),
            deletedAt: try row.decode(column: "deleted_at", as: Int64?.self).map(Timestamp.init(milliseconds:)),
            kind: kind, system: kind == .system ? system : nil)
    }

    /// What sets a message apart from a person's: a system message's event, a webhook's id and name.
    struct Origin: Sendable {
        var kind: MessageDTO.Kind = .user
        var system: SystemEvent?
        var webhookId: String?
        var webhookName: String?

        static let person = Origin()
    }

    /// Inserts a message; when the sender already sent `clientMsgId` here, returns that first
    /// message and `created: false` instead.
    func insert(conversationId: String, senderId: String, content: String, clientMsgId: String?,
                now: Timestamp, origin: Origin = .person, on sql: any SQLDatabase) async throws -> (seq: Int64, created: Bool) {
        let rows = try await sql.raw("""
            INSERT INTO messages (conversation_id, sender_id, content, client_msg_id, created_at, kind, system_event, webhook_id, webhook_name)
            VALUES (\(bind: conversationId), \(bind: senderId), \(bind: content), \(bind: clientMsgId), \(bind: now.milliseconds),
                    \(bind: origin.kind.rawValue), \(bind: origin.system?.stored), \(bind: origin.webhookId), \(bind: origin.webhookName))
            ON CONFLICT DO NOTHING RETURNING seq
            """).all()
        if let row = rows.first { return (try row.decode(column: "seq", as: Int64.self), true) }
        guard let clientMsgId, let existing = try await sql.raw("""
            SELECT seq FROM messages WHERE conversation_id = \(bind: conversationId)
              AND sender_id = \(bind: senderId) AND client_msg_id = \(bind: clientMsgId)
            """).first()
        else { throw APIError.internalError }
        return (try existing.decode(column: "seq", as: Int64.self), false)
    }

    /// One message; `withAttachments` reads its files too, for a message handed back to a
    /// client (checks of existence or authorship do without).
    public func find(seq: Int64, conversationId: String, withAttachments: Bool = false, on sql: (any SQLDatabase)? = nil)
        async throws -> MessageDTO?
    {
        let sql = sql ?? database.sql
        guard let message = try await sql.raw("""
            SELECT \(unsafeRaw: Self.columns) FROM messages msg JOIN users u ON u.id = msg.sender_id
            WHERE msg.seq = \(bind: seq) AND msg.conversation_id = \(bind: conversationId)
            """).first().map(Self.message(row:))
        else { return nil }
        return withAttachments ? try await Self.withAttachments([message], on: sql)[0] : message
    }

    /// `messages` with their attachments, read in one query.
    static func withAttachments(_ messages: [MessageDTO], on sql: any SQLDatabase) async throws -> [MessageDTO] {
        let seqs = messages.compactMap { $0.deletedAt == nil && $0.kind == .user ? MessageID.parse($0.id) : nil }
        let found = try await AttachmentStore.forMessages(seqs, on: sql)
        guard !found.isEmpty else { return messages }
        return messages.map { message in
            var message = message
            if let seq = MessageID.parse(message.id), let attachments = found[seq] { message.attachments = attachments }
            return message
        }
    }

    public enum Cursor: Sendable, Equatable {
        case newest
        case before(Int64)
        case after(Int64)
    }

    /// A page of at most `limit` messages, oldest first, and whether more lie in the cursor's
    /// direction (older for `.newest` and `.before`, newer for `.after`).
    public func page(conversationId: String, cursor: Cursor, limit: Int) async throws -> (messages: [MessageDTO], hasMore: Bool) {
        let condition: SQLQueryString
        let order: String
        switch cursor {
        case .newest: condition = ""; order = "DESC"
        case .before(let seq): condition = "AND msg.seq < \(bind: seq)"; order = "DESC"
        case .after(let seq): condition = "AND msg.seq > \(bind: seq)"; order = "ASC"
        }
        var messages = try await database.sql.raw("""
            SELECT \(unsafeRaw: Self.columns) FROM messages msg JOIN users u ON u.id = msg.sender_id
            WHERE msg.conversation_id = \(bind: conversationId) \(condition)
            ORDER BY msg.seq \(unsafeRaw: order) LIMIT \(bind: limit + 1)
            """).all().map(Self.message(row:))
        let hasMore = messages.count > limit
        if hasMore { messages.removeLast() }
        if order == "DESC" { messages.reverse() }
        return (try await Self.withAttachments(messages, on: database.sql), hasMore)
    }

    func edit(seq: Int64, content: String, now: Timestamp, on sql: any SQLDatabase) async throws {
        try await sql.raw("""
            UPDATE messages SET content = \(bind: content), edited_at = \(bind: now.milliseconds) WHERE seq = \(bind: seq)
            """).run()
    }

    func tombstone(seq: Int64, now: Timestamp, on sql: any SQLDatabase) async throws {
        try await sql.raw("""
            UPDATE messages SET content = '', deleted_at = \(bind: now.milliseconds) WHERE seq = \(bind: seq) AND deleted_at IS NULL
            """).run()
    }
}
