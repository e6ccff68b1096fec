import Foundation
import SQLKit

/// A membership: the caller's role in a conversation and what they have read.
public struct Membership: Sendable, Equatable {
    public var conversationId: String
    public var kind: ConversationKind
    public var role: Role
    public var lastReadSeq: Int64
}

/// Conversations and their members, as stored. The views clients see (with presence and the
/// call, which live only in the process) are assembled from these by `ConversationViews`.
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

    func memberIds(conversationId: String, on sql: (any SQLDatabase)? = nil) async throws -> [String] {
        try await (sql ?? database.sql).raw("""
            SELECT user_id FROM members WHERE conversation_id = \(bind: conversationId) ORDER BY joined_at, user_id
            """).all().map { try $0.decode(column: "user_id", as: String.self) }
    }

    /// Everyone who shares at least one conversation with `userId`, themself included: the
    /// audience of their presence changes.
    func contacts(of userId: String) async throws -> [String] {
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

    // MARK: Caps

    /// How many conversations `userId` is in.
    /// Holds the rows a cap is counted under until the transaction ends, so two requests cannot
    /// both count one below the cap and both insert. PostgreSQL's READ COMMITTED transactions
    /// need the row locks (taken in id order, so two lockers cannot deadlock); SQLite's
    /// `BEGIN IMMEDIATE` already lets one writer at a time in.
    func lockForCount(conversationId: String? = nil, userIds: [String], on sql: any SQLDatabase) async throws {
        guard sql.dialect.name == "postgresql" else { return }
        if let conversationId {
            try await sql.raw("SELECT id FROM conversations WHERE id = \(bind: conversationId) FOR UPDATE").run()
        }
        if !userIds.isEmpty {
            try await sql.raw("SELECT id FROM users WHERE id IN (\(binds: userIds.sorted())) ORDER BY id FOR UPDATE").run()
        }
    }

    func conversationCount(userId: String, on sql: any SQLDatabase) async throws -> Int {
        try await sql.raw("SELECT COUNT(*) AS n FROM members WHERE user_id = \(bind: userId)").first()?
            .decode(column: "n", as: Int.self) ?? 0
    }

    /// Those of `userIds` already in `cap` conversations or more. `userIds` is bounded by the
    /// request body (a group's first members).
    func usersAtCap(_ userIds: [String], cap: Int, on sql: any SQLDatabase) async throws -> [String] {
        guard !userIds.isEmpty else { return [] }
        return try await sql.raw("""
            SELECT user_id FROM members WHERE user_id IN (\(binds: userIds))
            GROUP BY user_id HAVING COUNT(*) >= \(bind: cap)
            """).all().map { try $0.decode(column: "user_id", as: String.self) }
    }

    // MARK: Conversation lists

    /// A position in a user's conversation list, which is ordered by last activity (newest
    /// first), then id: the list resumes after the conversation it names.
    public struct PageKey: Sendable, Equatable {
        public var lastActivity: Int64
        public var id: String

        /// Opaque to clients: base64url of `<lastActivity>:<id>`.
        public var cursor: String { Base64URL.encode(Array("\(lastActivity):\(id)".utf8)) }

        public init(lastActivity: Int64, id: String) {
            self.lastActivity = lastActivity
            self.id = id
        }

        public init?(cursor: String) {
            guard cursor.utf8.count <= 200, let bytes = Base64URL.decode(cursor),
                  let text = String(bytes: bytes, encoding: .utf8),
                  let colon = text.firstIndex(of: ":"), let activity = Int64(text[..<colon])
            else { return nil }
            let id = String(text[text.index(after: colon)...])
            guard !id.isEmpty, id.utf8.count <= 64, !id.utf8.contains(0) else { return nil }
            self.init(lastActivity: activity, id: id)
        }
    }

    /// One page of `userId`'s conversations, most recent activity first, starting after
    /// `after`, with the key to resume from when more follow. Costs a fixed number of
    /// queries with a fixed number of bind parameters, whatever the number of conversations.
    func page(for userId: String, after: PageKey?, limit: Int) async throws -> (conversations: [StoredConversation], next: PageKey?) {
        var keyset: SQLQueryString = ""
        if let after {
            keyset = "AND (c.last_activity_at < \(bind: after.lastActivity) OR (c.last_activity_at = \(bind: after.lastActivity) AND c.id > \(bind: after.id)))"
        }
        let rows = try await conversations(userId: userId, filter: keyset, limit: limit + 1, on: database.sql)
        guard rows.count > limit else { return (rows, nil) }
        let page = Array(rows.prefix(limit))
        return (page, page.last.map { PageKey(lastActivity: $0.lastActivity, id: $0.id) })
    }

    /// One conversation as stored, from `userId`'s side, or nil when they are not a member.
    func conversation(_ conversationId: String, for userId: String, on session: (any SQLDatabase)? = nil) async throws -> StoredConversation? {
        try await conversations(userId: userId, filter: "AND c.id = \(bind: conversationId)", limit: 1,
                                on: session ?? database.sql).first
    }

    /// The conversations of `userId` that pass `filter` (a condition on `c`), at most `limit`,
    /// in list order: one query for the conversations with their last message and unread
    /// count, one for the members of exactly those (the same filter and limit as a subquery).
    /// Neither binds a parameter per conversation.
    private func conversations(userId: String, filter: SQLQueryString, limit: Int, on sql: any SQLDatabase) async throws
        -> [StoredConversation]
    {
        let from: SQLQueryString = "FROM members m JOIN conversations c ON c.id = m.conversation_id"
        let mine: SQLQueryString = "WHERE m.user_id = \(bind: userId) \(filter)"
        let order: SQLQueryString = "ORDER BY c.last_activity_at DESC, c.id LIMIT \(bind: limit)"
        // The page is chosen first (the inner query), so the last message and the unread count
        // are computed for the page's conversations only, however many the user is in.
        var rows = try await sql.raw("""
            SELECT p.c_id, p.c_kind, p.c_title, p.c_created_at, p.c_activity,
                   (SELECT COUNT(*) FROM messages um
                    WHERE um.conversation_id = p.c_id AND um.seq > p.c_last_read
                      AND (um.sender_id <> \(bind: userId) OR um.webhook_id IS NOT NULL) AND um.deleted_at IS NULL) AS c_unread,
                   \(unsafeRaw: MessageStore.columns)
            FROM (SELECT c.id AS c_id, c.kind AS c_kind, c.title AS c_title, c.created_at AS c_created_at,
                         c.last_activity_at AS c_activity, m.last_read_seq AS c_last_read
                  \(from) \(mine) \(order)) p
            LEFT JOIN messages msg ON msg.seq = (SELECT MAX(seq) FROM messages WHERE conversation_id = p.c_id)
            LEFT JOIN users u ON u.id = msg.sender_id
            ORDER BY p.c_activity DESC, p.c_id
            """).all().map { row in
            StoredConversation(
                id: try row.decode(column: "c_id", as: String.self),
                kind: ConversationKind(rawValue: try row.decode(column: "c_kind", as: String.self)) ?? .group,
                title: try row.decode(column: "c_title", as: String?.self),
                createdAt: Timestamp(milliseconds: try row.decode(column: "c_created_at", as: Int64.self)),
                lastActivity: try row.decode(column: "c_activity", as: Int64.self),
                unreadCount: try row.decode(column: "c_unread", as: Int.self),
                lastMessage: try row.decode(column: "seq", as: Int64?.self) == nil ? nil : try MessageStore.message(row: row),
                members: [])
        }
        guard !rows.isEmpty else { return [] }
        let lastMessages = try await MessageStore.withAttachments(rows.compactMap(\.lastMessage), on: sql)
        for index in rows.indices where rows[index].lastMessage != nil {
            rows[index].lastMessage = lastMessages.first { $0.id == rows[index].lastMessage?.id && $0.conversationId == rows[index].id }
        }

        var members: [String: [StoredConversation.Member]] = [:]
        func collect(_ query: SQLQueryString) async throws {
            for row in try await sql.raw(query).all() {
                let member = StoredConversation.Member(
                    user: try UserRecord(row: row), role: Role(rawValue: try row.decode(column: "role", as: String.self)) ?? .member)
                members[try row.decode(column: "conversation_id", as: String.self), default: []].append(member)
            }
        }
        try await collect("""
            SELECT m2.conversation_id, m2.role, \(unsafeRaw: UserStore.qualifiedColumns)
            FROM members m2 JOIN users u ON u.id = m2.user_id
            WHERE m2.conversation_id IN (SELECT c.id \(from) \(mine) \(order))
            ORDER BY m2.joined_at, m2.user_id
            """)
        // Activity between the two queries can move a conversation across the page's edge;
        // its members are then read on their own (the caller is always one of them).
        for row in rows where members[row.id] == nil {
            try await collect("""
                SELECT m2.conversation_id, m2.role, \(unsafeRaw: UserStore.qualifiedColumns)
                FROM members m2 JOIN users u ON u.id = m2.user_id
                WHERE m2.conversation_id = \(bind: row.id) ORDER BY m2.joined_at, m2.user_id
                """)
        }
        for index in rows.indices { rows[index].members = members[rows[index].id] ?? [] }
        return rows
    }
}
