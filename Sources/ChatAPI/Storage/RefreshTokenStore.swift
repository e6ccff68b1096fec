import SQLKit

/// Logins (refresh-token families) and their refresh tokens, stored as hashes.
///
/// Rotation (RFC 6819 §5.2.2.3, OAuth 2.0 Security BCP §4.14): each refresh token is spent
/// once; presenting a spent one is taken as theft and revokes the whole login, so neither the
/// thief nor the victim keeps a working token from it.
///
/// Grace (REFRESH_REUSE_GRACE): a client that lost the response to its refresh, or two tabs
/// refreshing at once, present the same token twice. Within `graceMilliseconds` of the token's
/// rotation, and while the successor it was rotated to is still unused, the second
/// presentation rotates again: the successor is spent (presenting it later is reuse) and a new
/// token takes its place. Each token records its successor in `replaced_by`.
public struct RefreshTokenStore: Sendable {
    let database: Database
    let graceMilliseconds: Int64

    public init(database: Database, graceMilliseconds: Int64) {
        self.database = database
        self.graceMilliseconds = graceMilliseconds
    }

    public enum RotationOutcome: Sendable, Equatable {
        case rotated(userId: String, loginId: String)
        case reused(userId: String, loginId: String)
        case invalid
        /// Other refreshes of the same token kept winning the race: nothing was spent or
        /// revoked, and the client may try again (many presentations at one moment are
        /// retries within the grace, not reuse).
        case contended
    }

    func createLogin(id: String, userId: String, firstToken: RefreshToken, now: Timestamp, on sql: any SQLDatabase) async throws {
        try await sql.raw("""
            INSERT INTO logins (id, user_id, created_at) VALUES (\(bind: id), \(bind: userId), \(bind: now.milliseconds))
            """).run()
        try await insertToken(firstToken, loginId: id, now: now, on: sql)
    }

    private func insertToken(_ token: RefreshToken, loginId: String, now: Timestamp, on sql: any SQLDatabase) async throws {
        try await sql.raw("""
            INSERT INTO refresh_tokens (token_hash, login_id, created_at, expires_at)
            VALUES (\(bind: token.hash), \(bind: loginId), \(bind: now.milliseconds),
                    \(bind: now.milliseconds + RefreshToken.lifetimeMilliseconds))
            """).run()
    }

    /// Spends `presented` and, when it was live (or is retried within the grace), stores `next`
    /// in the same login, atomically.
    public func rotate(presented: String, next: RefreshToken, now: Timestamp) async throws -> RotationOutcome {
        let hash = RefreshToken.hash(of: presented), grace = graceMilliseconds
        return try await database.transaction { sql in
            var lastSuccessor: String?
            // A concurrent refresh of the same token can change it between our read and our
            // write; the conditional UPDATEs notice, and the token is looked at again.
            for _ in 0..<4 {
                guard let row = try await sql.raw("""
                    SELECT t.login_id, t.expires_at, t.used_at, t.replaced_by, l.user_id, l.revoked_at
                    FROM refresh_tokens t JOIN logins l ON l.id = t.login_id
                    WHERE t.token_hash = \(bind: hash)
                    """).first()
                else { return .invalid }
                let loginId = try row.decode(column: "login_id", as: String.self)
                let userId = try row.decode(column: "user_id", as: String.self)
                let revoked = try row.decode(column: "revoked_at", as: Int64?.self) != nil
                if let usedAt = try row.decode(column: "used_at", as: Int64?.self) {
                    let successor = try row.decode(column: "replaced_by", as: String?.self)
                    // A grace of 0 turns it off, even for a retry within the same millisecond.
                    guard !revoked, let successor, successor != lastSuccessor, grace > 0, now.milliseconds - usedAt <= grace else {
                        try await revoke(loginId: loginId, reason: "token_reused", now: now, on: sql)
                        return .reused(userId: userId, loginId: loginId)
                    }
                    // Within the grace: spend the unused successor and hand out a new one.
                    let superseded = try await sql.raw("""
                        UPDATE refresh_tokens SET used_at = \(bind: now.milliseconds)
                        WHERE token_hash = \(bind: successor) AND used_at IS NULL RETURNING token_hash
                        """).all()
                    guard !superseded.isEmpty else {
                        lastSuccessor = successor  // used, or superseded by a concurrent retry: look again
                        continue
                    }
                    try await insertToken(next, loginId: loginId, now: now, on: sql)
                    try await sql.raw("""
                        UPDATE refresh_tokens SET replaced_by = \(bind: next.hash) WHERE token_hash = \(bind: hash)
                        """).run()
                    return .rotated(userId: userId, loginId: loginId)
                }
                guard !revoked, try row.decode(column: "expires_at", as: Int64.self) > now.milliseconds else { return .invalid }
                // The guard on used_at makes a concurrent second refresh of the same token see no
                // row; it then looks again and finds the token rotated, within the grace.
                let spent = try await sql.raw("""
                    UPDATE refresh_tokens SET used_at = \(bind: now.milliseconds), replaced_by = \(bind: next.hash)
                    WHERE token_hash = \(bind: hash) AND used_at IS NULL RETURNING token_hash
                    """).all()
                guard !spent.isEmpty else { continue }
                try await insertToken(next, loginId: loginId, now: now, on: sql)
                return .rotated(userId: userId, loginId: loginId)
            }
            return .contended
        }
    }

    /// Revokes the login `presented` belongs to; nil when no such token exists.
    public func logout(presented: String, now: Timestamp) async throws -> (userId: String, loginId: String)? {
        let hash = RefreshToken.hash(of: presented)
        return try await database.transaction { sql in
            guard let row = try await sql.raw("""
                SELECT t.login_id, l.user_id FROM refresh_tokens t JOIN logins l ON l.id = t.login_id WHERE t.token_hash = \(bind: hash)
                """).first()
            else { return nil }
            let loginId = try row.decode(column: "login_id", as: String.self)
            try await revoke(loginId: loginId, reason: "logout", now: now, on: sql)
            return (try row.decode(column: "user_id", as: String.self), loginId)
        }
    }

    private func revoke(loginId: String, reason: String, now: Timestamp, on sql: any SQLDatabase) async throws {
        try await sql.raw("""
            UPDATE logins SET revoked_at = \(bind: now.milliseconds), revoked_reason = \(bind: reason)
            WHERE id = \(bind: loginId) AND revoked_at IS NULL
            """).run()
    }

    /// Revokes every live login of the user but `except` (the caller's own, on a password change)
    /// and returns the ids revoked, whose WebSocket sessions must then end.
    func revokeAll(userId: String, except: String? = nil, reason: String, now: Timestamp, on sql: any SQLDatabase) async throws -> [String] {
        try await sql.raw("""
            UPDATE logins SET revoked_at = \(bind: now.milliseconds), revoked_reason = \(bind: reason)
            WHERE user_id = \(bind: userId) AND revoked_at IS NULL AND id <> \(bind: except ?? "")
            RETURNING id
            """).all().map { try $0.decode(column: "id", as: String.self) }
    }

    /// Opens a login with no refresh token: a bot's, whose API token stands in for both.
    func createTokenlessLogin(id: String, userId: String, now: Timestamp, on sql: any SQLDatabase) async throws {
        try await sql.raw("""
            INSERT INTO logins (id, user_id, created_at) VALUES (\(bind: id), \(bind: userId), \(bind: now.milliseconds))
            """).run()
    }

    /// Whether access tokens of this login still work: it exists, belongs to the user, is not
    /// revoked, and the account is not deactivated (belt and braces: deactivation revokes the
    /// logins too).
    public func isLive(loginId: String, userId: String) async throws -> Bool {
        let row = try await database.sql.raw("""
            SELECT l.revoked_at, u.deactivated_at FROM logins l JOIN users u ON u.id = l.user_id
            WHERE l.id = \(bind: loginId) AND l.user_id = \(bind: userId)
            """).first()
        guard let row else { return false }
        return try row.decode(column: "revoked_at", as: Int64?.self) == nil
            && row.decode(column: "deactivated_at", as: Int64?.self) == nil
    }
}
