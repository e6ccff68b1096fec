import SQLKit

/// A membership: the caller's role in a conversation and what they have read.
public struct Membership: Sendable, Equatable {
    public var conversationId: String
    public var kind: ConversationKind
    public var role: Role
    public var lastReadSeq: Int64
}

/// Conversations and their members, and the assembled conversation view of PROTOCOL.md.
public struct ConversationStore: Sendable {
    let database: Database

    /// The caller's membership, or nil: callers turn nil into 404 so existence never leaks.
    public func membership(conversationId: String, userId: String, on sql: (any SQLDatabase)? = nil) async throws -> Membership? {
        try await (sql ?? database.sql).raw("""
            SELECT c.kind, m.role, m.last_read_seq FROM members m JOIN conversations c ON c.id = m.conversation_id
            WHERE m.conversation_id = \(bind: conversationId) AND m.user_id = \(bind: userId)
            """).first().map { row in
            Membership(
                conversationId: conversationId,
                kind: ConversationKind(rawValue: try row.decode(column: "kind", as: String.self)) ?? .group,
                role: Role(rawValue: try row.decode(column: "role", as: String.self)) ?? .member,
                lastReadSeq: try row.decode(column: "last_read_seq", as: Int64.self))
        }
    }

    /// The members with their display names, in joining order.
    func memberNames(conversationId: String, on sql: any SQLDatabase) async throws -> [(id: String, displayName: String)] {
        try await sql.raw("""
            SELECT m.user_id, u.display_name FROM members m JOIN users u ON u.id = m.user_id
            WHERE m.conversation_id = \(bind: conversationId) ORDER BY m.joined_at, m.user_id
            """).all().map { (try $0.decode(column: "user_id", as: String.self), try $0.decode(column: "display_name", as: String.self)) }
    }

    public func memberIds(conversationId: String, on sql: (any SQLDatabase)? = nil) async throws -> [String] {
        try await (sql ?? database.sql).raw("""
            SELECT user_id FROM members WHERE conversation_id = \(bind: conversationId) ORDER BY joined_at, user_id
            """).all().map { try $0.decode(column: "user_id", as: String.self) }
    }

    /// Everyone who shares at least one conversation with `userId`, themself included: the
    /// audience of their presence changes.
    public func contacts(of userId: String) async throws -> [String] {
        try await database.sql.raw("""
            SELECT DISTINCT other.user_id FROM members mine JOIN members other ON other.conversation_id = mine.conversation_id
            WHERE mine.user_id = \(bind: userId)
            """).all().map { try $0.decode(column: "user_id", as: String.self) }
    }

    /// Creates a conversation with its members (the first is the owner for groups).
    func insert(id: String, kind: ConversationKind, title: String?, dmKey: String?, members: [(String, Role)],
                now: Timestamp, on sql: any SQLDatabase) async throws -> Bool {
        let rows = try await sql.raw("""
            INSERT INTO conversations (id, kind, title, dm_key, created_at, last_activity_at)
            VALUES (\(bind: id), \(bind: kind.rawValue), \(bind: title), \(bind: dmKey), \(bind: now.milliseconds), \(bind: now.milliseconds))
            ON CONFLICT DO NOTHING RETURNING id
            """).all()
        guard !rows.isEmpty else { return false }
        for (userId, role) in members {
            try await addMember(conversationId: id, userId: userId, role: role, now: now, on: sql)
        }
        return true
    }

    /// Adds a member whose read marker starts at the newest message: history before joining is
    /// there to read, but does not count as unread.
    func addMember(conversationId: String, userId: String, role: Role, now: Timestamp, on sql: any SQLDatabase) async throws {
        try await sql.raw("""
            INSERT INTO members (conversation_id, user_id, role, joined_at, last_read_seq)
            VALUES (\(bind: conversationId), \(bind: userId), \(bind: role.rawValue), \(bind: now.milliseconds),
                    (SELECT COALESCE(MAX(seq), 0) FROM messages WHERE conversation_id = \(bind: conversationId)))
            """).run()
    }

    func conversationId(dmKey: String) async throws -> String? {
        try await database.sql.raw("SELECT id FROM conversations WHERE dm_key = \(bind: dmKey)").first()
            .map { try $0.decode(column: "id", as: String.self) }
    }

    func setTitle(_ title: String, conversationId: String, on sql: any SQLDatabase) async throws {
        try await sql.raw("UPDATE conversations SET title = \(bind: title) WHERE id = \(bind: conversationId)").run()
    }

    func touch(conversationId: String, at time: Timestamp, on sql: any SQLDatabase) async throws {
        try await sql.raw("""
            UPDATE conversations SET last_activity_at = \(bind: time.milliseconds) WHERE id = \(bind: conversationId)
            """).run()
    }

    func removeMember(conversationId: String, userId: String, on sql: any SQLDatabase) async throws {
        try await sql.raw("""
            DELETE FROM members WHERE conversation_id = \(bind: conversationId) AND user_id = \(bind: userId)
            """).run()
    }

    func setRole(_ role: Role, conversationId: String, userId: String, on sql: any SQLDatabase) async throws {
        try await sql.raw("""
            UPDATE members SET role = \(bind: role.rawValue) WHERE conversation_id = \(bind: conversationId) AND user_id = \(bind: userId)
            """).run()
    }

    /// The member who inherits ownership when the owner leaves: the longest-standing admin,
    /// else the longest-standing member.
    func successor(conversationId: String, excluding userId: String, on sql: any SQLDatabase) async throws -> String? {
        try await sql.raw("""
            SELECT user_id FROM members WHERE conversation_id = \(bind: conversationId) AND user_id <> \(bind: userId)
            ORDER BY CASE role WHEN 'admin' THEN 0 ELSE 1 END, joined_at, user_id LIMIT 1
            """).first().map { try $0.decode(column: "user_id", as: String.self) }
    }

    /// Moves the read marker forward; false when it was already at or past `seq`. Markers only
    /// move forward: a late or stale `read` never un-reads messages.
    func setReadMarker(conversationId: String, userId: String, seq: Int64, on sql: any SQLDatabase) async throws -> Bool {
        try await !sql.raw("""
            UPDATE members SET last_read_seq = \(bind: seq)
            WHERE conversation_id = \(bind: conversationId) AND user_id = \(bind: userId) AND last_read_seq < \(bind: seq)
            RETURNING user_id
            """).all().isEmpty
    }

    // MARK: Assembled views

    struct Row: Sendable {
        var id: String
        var kind: ConversationKind
        var title: String?
        var createdAt: Timestamp
        var lastReadSeq: Int64
    }

    /// Every conversation of `userId`, most recent activity first, as PROTOCOL.md's Conversation,
    /// in a fixed number of queries whatever the number of conversations.
    public func views(for userId: String, only conversationId: String? = nil,
                      presence: PresenceLookup, calls: CallLookup, on session: (any SQLDatabase)? = nil) async throws -> [ConversationDTO] {
        let sql = session ?? database.sql
        let filter: SQLQueryString = conversationId.map { "AND c.id = \(bind: $0)" } ?? ""
        let rows = try await sql.raw("""
            SELECT c.id, c.kind, c.title, c.created_at, m.last_read_seq
            FROM conversations c JOIN members m ON m.conversation_id = c.id
            WHERE m.user_id = \(bind: userId) \(filter)
            ORDER BY c.last_activity_at DESC, c.id
            """).all().map { row in
            Row(id: try row.decode(column: "id", as: String.self),
                kind: ConversationKind(rawValue: try row.decode(column: "kind", as: String.self)) ?? .group,
                title: try row.decode(column: "title", as: String?.self),
                createdAt: Timestamp(milliseconds: try row.decode(column: "created_at", as: Int64.self)),
                lastReadSeq: try row.decode(column: "last_read_seq", as: Int64.self))
        }
        guard !rows.isEmpty else { return [] }
        let ids = rows.map(\.id)

        var members: [String: [MemberDTO]] = [:]
        for row in try await sql.raw("""
            SELECT m.conversation_id, m.role, \(unsafeRaw: UserStore.qualifiedColumns)
            FROM members m JOIN users u ON u.id = m.user_id
            WHERE m.conversation_id IN (\(binds: ids))
            ORDER BY m.joined_at, m.user_id
            """).all() {
            let user = try UserRecord(row: row)
            let member = MemberDTO(user: user.dto(online: presence.isOnline(user.id)),
                                   role: Role(rawValue: try row.decode(column: "role", as: String.self)) ?? .member)
            members[try row.decode(column: "conversation_id", as: String.self), default: []].append(member)
        }

        var lastMessages: [String: MessageDTO] = [:]
        for row in try await sql.raw("""
            SELECT \(unsafeRaw: MessageStore.columns) FROM messages msg JOIN users u ON u.id = msg.sender_id
            WHERE msg.seq IN (SELECT MAX(seq) FROM messages WHERE conversation_id IN (\(binds: ids)) GROUP BY conversation_id)
            """).all() {
            let message = try MessageStore.message(row: row)
            lastMessages[message.conversationId] = message
        }

        var unread: [String: Int] = [:]
        for row in try await sql.raw("""
            SELECT msg.conversation_id, COUNT(*) AS unread
            FROM messages msg JOIN members m ON m.conversation_id = msg.conversation_id AND m.user_id = \(bind: userId)
            WHERE msg.conversation_id IN (\(binds: ids)) AND msg.seq > m.last_read_seq
              AND msg.sender_id <> \(bind: userId) AND msg.deleted_at IS NULL
            GROUP BY msg.conversation_id
            """).all() {
            unread[try row.decode(column: "conversation_id", as: String.self)] = try row.decode(column: "unread", as: Int.self)
        }

        return rows.map { row in
            ConversationDTO(
                id: row.id, kind: row.kind, title: row.title, members: members[row.id] ?? [],
                createdAt: row.createdAt, lastMessage: lastMessages[row.id], unreadCount: unread[row.id] ?? 0,
                call: calls.summary(row.id))
        }
    }
}
