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
    public var role: AccountRole = .member
    public var deactivatedAt: Timestamp?

    public var isActive: Bool { deactivatedAt == nil }
    /// An administrator whose account is on: who may use the `/admin` routes.
    public var isActiveAdmin: Bool { role == .admin && deactivatedAt == nil }

    init(row: any SQLRow) throws {
        id = try row.decode(column: "id", as: String.self)
        email = try row.decode(column: "email", as: String.self)
        passwordHash = try row.decode(column: "password_hash", as: String.self)
        displayName = try row.decode(column: "display_name", as: String.self)
        avatarUrl = try row.decode(column: "avatar_url", as: String?.self)
        createdAt = Timestamp(milliseconds: try row.decode(column: "created_at", as: Int64.self))
        lastSeenAt = try row.decode(column: "last_seen_at", as: Int64?.self).map(Timestamp.init(milliseconds:))
        role = AccountRole(rawValue: try row.decode(column: "account_role", as: String.self)) ?? .member
        deactivatedAt = try row.decode(column: "deactivated_at", as: Int64?.self).map(Timestamp.init(milliseconds:))
    }

    init(id: String, email: String, passwordHash: String, displayName: String, createdAt: Timestamp, role: AccountRole = .member) {
        self.id = id
        self.email = email
        self.passwordHash = passwordHash
        self.displayName = displayName
        self.createdAt = createdAt
        self.role = role
    }
}

/// Users: creation, lookup, profile changes, search and last-seen times.
public struct UserStore: Sendable {
    let database: Database

    /// The account's role is read as `account_role`: joins with `members` also select a
    /// conversation role named `role`.
    static let columns = "id, email, password_hash, display_name, avatar_url, created_at, last_seen_at, role AS account_role, deactivated_at"
    /// The same columns prefixed with the `u` alias, for joins.
    static let qualifiedColumns =
        "u.id, u.email, u.password_hash, u.display_name, u.avatar_url, u.created_at, u.last_seen_at, u.role AS account_role, u.deactivated_at"

    /// Inserts a user; returns false when the email is already taken.
    func insert(_ user: UserRecord, on sql: any SQLDatabase) async throws -> Bool {
        let rows = try await sql.raw("""
            INSERT INTO users (id, email, password_hash, display_name, display_name_lower, created_at, role)
            VALUES (\(bind: user.id), \(bind: user.email), \(bind: user.passwordHash), \(bind: user.displayName),
                    \(bind: user.displayName.lowercased()), \(bind: user.createdAt.milliseconds), \(bind: user.role.rawValue))
            ON CONFLICT (email) DO NOTHING
            RETURNING id
            """).all()
        return !rows.isEmpty
    }

    public func find(id: String, on sql: (any SQLDatabase)? = nil) async throws -> UserRecord? {
        try await (sql ?? database.sql).raw("SELECT \(unsafeRaw: Self.columns) FROM users WHERE id = \(bind: id)")
            .first().map(UserRecord.init(row:))
    }

    public func find(email: String, on sql: (any SQLDatabase)? = nil) async throws -> UserRecord? {
        try await (sql ?? database.sql).raw("SELECT \(unsafeRaw: Self.columns) FROM users WHERE email = \(bind: email)")
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
            WHERE (u.display_name_lower LIKE \(bind: pattern) ESCAPE '\\' OR u.email = \(bind: email)) AND u.deactivated_at IS NULL
            ORDER BY u.display_name_lower, u.id
            LIMIT \(bind: limit)
            """).all().map { (try UserRecord(row: $0), try $0.decode(column: "is_contact", as: Int.self) == 1) }
    }

    /// A LIKE pattern matching what starts with `prefix`, its wildcards taken literally (with `ESCAPE '\\'`).
    static func prefixPattern(_ prefix: String) -> String {
        prefix.lowercased()
            .replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_") + "%"
    }

    /// Whether any account exists: the first registration of a server is always let in.
    func hasAny(on sql: any SQLDatabase) async throws -> Bool {
        try await sql.raw("SELECT 1 AS one FROM users LIMIT 1").first() != nil
    }

    public func setPassword(id: String, hash: String, on sql: any SQLDatabase) async throws {
        try await sql.raw("UPDATE users SET password_hash = \(bind: hash) WHERE id = \(bind: id)").run()
    }

    func setRole(_ role: AccountRole, id: String, on sql: any SQLDatabase) async throws {
        try await sql.raw("UPDATE users SET role = \(bind: role.rawValue) WHERE id = \(bind: id)").run()
    }

    func setDeactivated(_ time: Timestamp?, id: String, on sql: any SQLDatabase) async throws {
        try await sql.raw("UPDATE users SET deactivated_at = \(bind: time?.milliseconds) WHERE id = \(bind: id)").run()
    }

    /// Active administrators other than `excluding`: the last one may not be demoted or deactivated.
    func activeAdminCount(excluding id: String, on sql: any SQLDatabase) async throws -> Int {
        try await sql.raw("""
            SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND deactivated_at IS NULL AND id <> \(bind: id)
            """).first()?.decode(column: "n", as: Int.self) ?? 0
    }

    /// The page key of the administrators' user list: creation time, then id.
    public struct PageKey: Sendable, Equatable {
        var createdAt: Int64
        var id: String

        public init?(cursor: String) {
            let parts = cursor.split(separator: ".", maxSplits: 1)
            guard parts.count == 2, let time = Int64(parts[0]), !parts[1].isEmpty, parts[1].utf8.count <= 64,
                  !parts[1].utf8.contains(0) else { return nil }
            createdAt = time
            id = String(parts[1])
        }
        init(_ user: UserRecord) {
            createdAt = user.createdAt.milliseconds
            id = user.id
        }
        public var cursor: String { "\(createdAt).\(id)" }
    }

    /// Every account (bots and deactivated ones included), oldest first, optionally those whose
    /// display name or email starts with `query`; one more than `limit` tells of a next page.
    func page(query: String?, roles: [AccountRole]? = nil, after: PageKey?, limit: Int) async throws -> (users: [UserRecord], next: PageKey?) {
        var conditions: [SQLQueryString] = []
        if let query {
            let pattern = Self.prefixPattern(query.trimmingCharacters(in: .whitespaces))
            conditions.append("(display_name_lower LIKE \(bind: pattern) ESCAPE '\\' OR email LIKE \(bind: pattern) ESCAPE '\\')")
        }
        if let roles { conditions.append("role IN (\(binds: roles.map(\.rawValue)))") }
        if let after {
            conditions.append("(created_at > \(bind: after.createdAt) OR (created_at = \(bind: after.createdAt) AND id > \(bind: after.id)))")
        }
        var filter: SQLQueryString = ""
        for (index, condition) in conditions.enumerated() {
            let joiner: SQLQueryString = index == 0 ? "WHERE " : " AND "
            filter = filter + joiner + condition
        }
        var users = try await database.sql.raw("""
            SELECT \(unsafeRaw: Self.columns) FROM users \(filter) ORDER BY created_at, id LIMIT \(bind: limit + 1)
            """).all().map(UserRecord.init(row:))
        guard users.count > limit else { return (users, nil) }
        users.removeLast()
        return (users, users.last.map(PageKey.init))
    }

    public func setLastSeen(id: String, at time: Timestamp) async throws {
        try await database.sql.raw("UPDATE users SET last_seen_at = \(bind: time.milliseconds) WHERE id = \(bind: id)").run()
    }
}
