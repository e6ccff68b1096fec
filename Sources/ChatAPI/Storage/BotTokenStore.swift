import SQLKit

/// Bots' API tokens, stored as hashes. Each bot has one token and one login (a row of
/// `logins` with no refresh token): the token authenticates as that login, so revoking the
/// login (deleting or deactivating the bot) ends the token and, through the `loginRevoked`
/// event, the bot's WebSockets, like any other login.
public struct BotTokenStore: Sendable {
    let database: Database

    func insert(tokenHash: String, userId: String, loginId: String, createdBy: String?, now: Timestamp,
                on sql: any SQLDatabase) async throws {
        try await sql.raw("""
            INSERT INTO bot_tokens (token_hash, user_id, login_id, created_by, created_at)
            VALUES (\(bind: tokenHash), \(bind: userId), \(bind: loginId), \(bind: createdBy), \(bind: now.milliseconds))
            """).run()
    }

    /// Who a presented token authenticates as, while its login is live and the bot active.
    func resolve(tokenHash: String) async throws -> AuthContext? {
        guard let row = try await database.sql.raw("""
            SELECT b.user_id, b.login_id FROM bot_tokens b
            JOIN logins l ON l.id = b.login_id JOIN users u ON u.id = b.user_id
            WHERE b.token_hash = \(bind: tokenHash) AND l.revoked_at IS NULL AND u.deactivated_at IS NULL
            """).first()
        else { return nil }
        return AuthContext(userId: try row.decode(column: "user_id", as: String.self),
                           loginId: try row.decode(column: "login_id", as: String.self))
    }

    /// Deletes the bot's token; false when it had none (already deleted).
    func delete(userId: String, on sql: any SQLDatabase) async throws -> Bool {
        try await !sql.raw("DELETE FROM bot_tokens WHERE user_id = \(bind: userId) RETURNING user_id").all().isEmpty
    }

    /// Bots that still have a token (not deleted): the BOT cap counts these.
    func count(on sql: any SQLDatabase) async throws -> Int {
        try await sql.raw("SELECT COUNT(*) AS n FROM bot_tokens").first()?.decode(column: "n", as: Int.self) ?? 0
    }

    /// The users of the bots that have a token, oldest first.
    func bots() async throws -> [UserRecord] {
        try await database.sql.raw("""
            SELECT \(unsafeRaw: UserStore.qualifiedColumns) FROM bot_tokens b JOIN users u ON u.id = b.user_id
            ORDER BY u.created_at, u.id
            """).all().map(UserRecord.init(row:))
    }
}
