import SQLKit

/// Logins (refresh-token families) and their refresh tokens, stored as hashes.
///
/// Rotation (RFC 6819 §5.2.2.3, OAuth 2.0 Security BCP §4.14): each refresh token is spent
/// once; presenting a spent one is taken as theft and revokes the whole login, so neither the
/// thief nor the victim keeps a working token from it.
public struct RefreshTokenStore: Sendable {
    let database: Database

    public enum RotationOutcome: Sendable, Equatable {
        case rotated(userId: String, loginId: String)
        case reused(userId: String, loginId: String)
        case invalid
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

    /// Spends `presented` and, when it was live, stores `next` in the same login, atomically.
    public func rotate(presented: String, next: RefreshToken, now: Timestamp) async throws -> RotationOutcome {
        let hash = RefreshToken.hash(of: presented)
        return try await database.transaction { sql in
            guard let row = try await sql.raw("""
                SELECT t.login_id, t.expires_at, t.used_at, l.user_id, l.revoked_at
                FROM refresh_tokens t JOIN logins l ON l.id = t.login_id
                WHERE t.token_hash = \(bind: hash)
                """).first()
            else { return .invalid }
            let loginId = try row.decode(column: "login_id", as: String.self)
            let userId = try row.decode(column: "user_id", as: String.self)
            if try row.decode(column: "used_at", as: Int64?.self) != nil {
                try await revoke(loginId: loginId, reason: "token_reused", now: now, on: sql)
                return .reused(userId: userId, loginId: loginId)
            }
            guard try row.decode(column: "revoked_at", as: Int64?.self) == nil,
                  try row.decode(column: "expires_at", as: Int64.self) > now.milliseconds
            else { return .invalid }
            // The guard on used_at makes a concurrent second refresh of the same token see no row.
            let spent = try await sql.raw("""
                UPDATE refresh_tokens SET used_at = \(bind: now.milliseconds)
                WHERE token_hash = \(bind: hash) AND used_at IS NULL RETURNING token_hash
                """).all()
            guard !spent.isEmpty else {
                try await revoke(loginId: loginId, reason: "token_reused", now: now, on: sql)
                return .reused(userId: userId, loginId: loginId)
            }
            try await insertToken(next, loginId: loginId, now: now, on: sql)
            return .rotated(userId: userId, loginId: loginId)
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

    /// Whether access tokens of this login still work: it exists, belongs to the user, is not revoked.
    public func isLive(loginId: String, userId: String) async throws -> Bool {
        let row = try await database.sql.raw("""
            SELECT revoked_at FROM logins WHERE id = \(bind: loginId) AND user_id = \(bind: userId)
            """).first()
        guard let row else { return false }
        return try row.decode(column: "revoked_at", as: Int64?.self) == nil
    }
}
