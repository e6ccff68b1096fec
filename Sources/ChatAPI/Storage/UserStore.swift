import SQLKit

/// A user row as stored.
public struct UserRecord: Sendable, Equatable {
    public var id: String
    public var email: String
    public var passwordHash: String
    public var displayName: String
    public var avatarUrl: String?
    public var createdAt: Timestamp
    public var lastSeenAt: Timestamp?

    init(row: any SQLRow) throws {
        id = try row.decode(column: "id", as: String.self)
        email = try row.decode(column: "email", as: String.self)
        passwordHash = try row.decode(column: "password_hash", as: String.self)
        displayName = try row.decode(column: "display_name", as: String.self)
        avatarUrl = try row.decode(column: "avatar_url", as: String?.self)
        createdAt = Timestamp(milliseconds: try row.decode(column: "created_at", as: Int64.self))
        lastSeenAt = try row.decode(column: "last_seen_at", as: Int64?.self).map(Timestamp.init(milliseconds:))
    }

    init(id: String, email: String, passwordHash: String, displayName: String, createdAt: Timestamp) {
        self.id = id
        self.email = email
        self.passwordHash = passwordHash
        self.displayName = displayName
        self.createdAt = createdAt
    }
}

/// Users: creation, lookup, profile changes, search and last-seen times.
public struct UserStore: Sendable {
    let database: Database

    static let columns = "id, email, password_hash, display_name, avatar_url, created_at, last_seen_at"
    /// The same columns prefixed with the `u` alias, for joins.
    static let qualifiedColumns = "u.id, u.email, u.password_hash, u.display_name, u.avatar_url, u.created_at, u.last_seen_at"

    /// Inserts a user; returns false when the email is already taken.
    func insert(_ user: UserRecord, on sql: any SQLDatabase) async throws -> Bool {
        let rows = try await sql.raw("""
            INSERT INTO users (id, email, password_hash, display_name, display_name_lower, created_at)
            VALUES (\(bind: user.id), \(bind: user.email), \(bind: user.passwordHash), \(bind: user.displayName),
                    \(bind: user.displayName.lowercased()), \(bind: user.createdAt.milliseconds))
            ON CONFLICT (email) DO NOTHING
            RETURNING id
            """).all()
        return !rows.isEmpty
    }

    public func find(id: String) async throws -> UserRecord? {
        try await database.sql.raw("SELECT \(unsafeRaw: Self.columns) FROM users WHERE id = \(bind: id)")
            .first().map(UserRecord.init(row:))
    }

    public func find(email: String) async throws -> UserRecord? {
        try await database.sql.raw("SELECT \(unsafeRaw: Self.columns) FROM users WHERE email = \(bind: email)")
            .first().map(UserRecord.init(row:))
    }

    /// The subset of `ids` that exist.
    public func existing(ids: [String]) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        let rows = try await database.sql.raw("SELECT id FROM users WHERE id IN (\(binds: ids))").all()
        return Set(try rows.map { try $0.decode(column: "id", as: String.self) })
    }

    public func update(id: String, displayName: String?, avatarUrl: String??) async throws {
        if let displayName {
            try await database.sql.raw("""
                UPDATE users SET display_name = \(bind: displayName), display_name_lower = \(bind: displayName.lowercased())
                WHERE id = \(bind: id)
                """).run()
        }
        if let avatarUrl {
            try await database.sql.raw("UPDATE users SET avatar_url = \(bind: avatarUrl) WHERE id = \(bind: id)").run()
        }
    }

    /// Users whose display name starts with `query`, or whose email is `query` whole (both
    /// case-insensitive), by name; with whether each shares a conversation with `viewer` (or is
    /// the viewer), which decides whether their presence may be shown. An email is matched
    /// only whole so that addresses cannot be probed a letter at a time.
    public func search(_ query: String, viewer: String, limit: Int) async throws -> [(user: UserRecord, isContact: Bool)] {
        let lowered = query.lowercased()
        // Emails are stored trimmed and lowercased: a pasted address with spaces around still matches.
        let email = lowered.trimmingCharacters(in: .whitespaces)
        let escaped = lowered
            .replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
        let pattern = escaped + "%"
        return try await database.sql.raw("""
            SELECT \(unsafeRaw: Self.qualifiedColumns),
                   CASE WHEN u.id = \(bind: viewer) OR EXISTS (
                       SELECT 1 FROM members theirs JOIN members mine
                         ON mine.conversation_id = theirs.conversation_id AND mine.user_id = \(bind: viewer)
                       WHERE theirs.user_id = u.id) THEN 1 ELSE 0 END AS is_contact
            FROM users u
            WHERE u.display_name_lower LIKE \(bind: pattern) ESCAPE '\\' OR u.email = \(bind: email)
            ORDER BY u.display_name_lower, u.id
            LIMIT \(bind: limit)
            """).all().map { (try UserRecord(row: $0), try $0.decode(column: "is_contact", as: Int.self) == 1) }
    }

    public func setLastSeen(id: String, at time: Timestamp) async throws {
        try await database.sql.raw("UPDATE users SET last_seen_at = \(bind: time.milliseconds) WHERE id = \(bind: id)").run()
    }
}
