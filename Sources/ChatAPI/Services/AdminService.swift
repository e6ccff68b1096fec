import SQLKit

/// What a server's administrators do (docs/protocol.md "Administration"): list and search
/// accounts, deactivate and reactivate them, appoint administrators, invite people and make
/// bots. The REST routes check `requireAdmin` first; the console (`parley admin`) calls the
/// same methods with the database's owner at the keyboard.
///
/// The last active administrator can neither be demoted nor deactivated: a server must keep
/// someone who can run it. Changes of roles and activation queue behind one PostgreSQL
/// advisory lock, so two administrators demoting each other at once cannot both succeed.
public struct AdminService: Sendable {
    let users: UserStore
    let invites: InviteStore
    let botTokens: BotTokenStore
    let refreshTokens: RefreshTokenStore
    let auth: AuthService
    let hasher: PasswordHasher
    let database: Database
    let clock: WallClock
    let events: ChatEventSink

    /// Invitations that may be open at once, and bots at once (409 `limit_reached` past them).
    public static let maxOpenInvites = 1000
    public static let maxBots = 100
    public static let maxUsesRange = 1...1000
    public static let expiresInHoursRange = 1...720

    /// The caller's account when it is an active administrator; 403 `forbidden` otherwise (bots included).
    @discardableResult
    public func requireAdmin(_ caller: AuthContext) async throws -> UserRecord {
        guard let user = try await users.find(id: caller.userId), user.isActiveAdmin else {
            throw APIError.forbidden("Only an administrator may do this.")
        }
        return user
    }

    // MARK: accounts

    /// A page of accounts, oldest first, optionally those whose name or email starts with `query`.
    public func listUsers(query: String?, limit rawLimit: String?, cursor: String?) async throws
        -> (users: [UserRecord], nextCursor: String?)
    {
        if let query {
            try Validate.noNUL(query, field: "q")
            guard query.count <= 254 else { throw APIError.invalidField("q", "q must be at most 254 characters.") }
        }
        let limit = try Validate.limit(rawLimit, default: 50, cap: 200)
        var after: UserStore.PageKey?
        if let cursor {
            guard let key = UserStore.PageKey(cursor: cursor) else {
                throw APIError.invalidField("cursor", "cursor must be a nextCursor this server returned.")
            }
            after = key
        }
        let query = query.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        let page = try await users.page(query: query, after: after, limit: limit)
        return (page.users, page.next?.cursor)
    }

    /// The account with this email (console commands name people by email); `not_found` otherwise.
    public func user(email: String) async throws -> UserRecord {
        let email = email.trimmingCharacters(in: .whitespaces).lowercased()
        guard !email.utf8.contains(0), let user = try await users.find(email: email) else {
            throw APIError.notFound("No account has the email \(email).")
        }
        return user
    }

    private func existing(_ userId: String, on sql: any SQLDatabase) async throws -> UserRecord {
        guard !userId.isEmpty, userId.utf8.count <= 64, let user = try await users.find(id: userId, on: sql) else {
            throw APIError.notFound("No such user.")
        }
        return user
    }

    static let lastAdmin = APIError.conflict("conflict", "This is the last active administrator; appoint another first.")

    private func lockAccounts(_ sql: any SQLDatabase) async throws {
        if database.isPostgres { try await sql.raw("SELECT pg_advisory_xact_lock(7238294)").run() }
    }

    /// Switches an account off: every login revoked (its WebSockets close with 4401 and it
    /// leaves every call, on every instance), login refused with `account_deactivated`.
    /// Deactivating an inactive account changes nothing.
    public func deactivate(userId: String) async throws {
        let users = self.users, refreshTokens = self.refreshTokens, now = clock.now()
        try await events.commit(database) { sql in
            try await lockAccounts(sql)
            let user = try await existing(userId, on: sql)
            if user.isActiveAdmin, try await users.activeAdminCount(excluding: user.id, on: sql) == 0 { throw Self.lastAdmin }
            if user.isActive { try await users.setDeactivated(now, id: user.id, on: sql) }
            let revoked = try await refreshTokens.revokeAll(userId: user.id, reason: "deactivated", now: now, on: sql)
            return ((), revoked.map { ChatEvent.loginRevoked(loginId: $0, userId: user.id) })
        }
    }

    /// Lets a deactivated account sign in again (its old logins stay revoked). A deleted bot's
    /// token does not come back: make a new bot.
    public func reactivate(userId: String) async throws {
        let users = self.users
        try await database.transaction { sql in
            let user = try await existing(userId, on: sql)
            if !user.isActive { try await users.setDeactivated(nil, id: user.id, on: sql) }
        }
    }

    /// Makes an account an administrator or a member; a bot's role cannot change.
    public func setRole(userId: String, role: AccountRole) async throws {
        guard role != .bot else { throw APIError.invalidField("role", "role must be admin or member.") }
        let users = self.users
        try await database.transaction { sql in
            try await lockAccounts(sql)
            let user = try await existing(userId, on: sql)
            guard user.role != .bot else { throw APIError.conflict("conflict", "A bot's role cannot change.") }
            if user.isActiveAdmin, role != .admin, try await users.activeAdminCount(excluding: user.id, on: sql) == 0 {
                throw Self.lastAdmin
            }
            try await users.setRole(role, id: user.id, on: sql)
        }
    }

    /// Gives the account a new random password, returned once to show the administrator, and
    /// ends every login it had.
    public func resetPassword(userId: String) async throws -> String {
        guard let user = try await users.find(id: userId) else { throw APIError.notFound("No such user.") }
        guard user.role != .bot else { throw APIError.conflict("conflict", "A bot has no password.") }
        let password = SecretToken.generate(prefix: "", bytes: 12).value
        try await auth.setPassword(userId: user.id, hash: try await hasher.hash(password), keeping: nil, reason: "password_reset")
        return password
    }

    // MARK: invitations

    /// A new invitation and its code, which is shown this once (only its hash is kept).
    public func createInvite(maxUses: Int?, expiresInHours: Int?, createdBy: String?) async throws
        -> (invite: InviteRecord, code: String)
    {
        let maxUses = maxUses ?? 1, hours = expiresInHours ?? 168
        guard Self.maxUsesRange.contains(maxUses) else {
            throw APIError.invalidField("maxUses", "maxUses must be 1 to \(Self.maxUsesRange.upperBound).")
        }
        guard Self.expiresInHoursRange.contains(hours) else {
            throw APIError.invalidField("expiresInHours", "expiresInHours must be 1 to \(Self.expiresInHoursRange.upperBound).")
        }
        let now = clock.now()
        let code = SecretToken.generate(prefix: "", bytes: 16)
        let invite = InviteRecord(id: Identifier.make("inv"), maxUses: maxUses, createdAt: now,
                                  expiresAt: Timestamp(milliseconds: now.milliseconds + Int64(hours) * 3_600_000), createdBy: createdBy)
        let invites = self.invites, isPostgres = database.isPostgres
        try await database.transaction { sql in
            if isPostgres { try await sql.raw("SELECT pg_advisory_xact_lock(7238295)").run() }
            guard try await invites.openCount(at: now, on: sql) < Self.maxOpenInvites else {
                throw APIError.limitReached("invitations", "At most \(Self.maxOpenInvites) invitations may be open at once")
            }
            try await invites.insert(invite, codeHash: code.hash, on: sql)
        }
        return (invite, code.value)
    }

    public func listInvites() async throws -> [InviteRecord] {
        try await invites.list(limit: 2000)
    }

    /// Deletes an invitation named by its id or its code; `not_found` when there is none.
    public func deleteInvite(_ idOrCode: String) async throws {
        guard !idOrCode.isEmpty, idOrCode.utf8.count <= 64, !idOrCode.utf8.contains(0),
              try await invites.delete(idOrCodeHash: idOrCode, codeHash: SecretToken.hash(of: idOrCode))
        else { throw APIError.notFound("No such invitation.") }
    }

    // MARK: bots

    /// A bot account and its API token, which is shown this once (only its hash is kept). The
    /// token never expires; deleting the bot revokes it.
    public func createBot(displayName: String, createdBy: String?) async throws -> (user: UserRecord, token: String) {
        try Validate.displayName(displayName)
        let now = clock.now()
        let id = Identifier.make("u")
        // Bots sign in with their token only: the email is a unique placeholder and the
        // password hash matches nothing (login checks bots against the decoy hash anyway).
        let user = UserRecord(id: id, email: "\(id.lowercased())@bots.invalid", passwordHash: "!", displayName: displayName,
                              createdAt: now, role: .bot)
        let token = SecretToken.generate(prefix: SecretToken.botPrefix)
        let loginId = Identifier.make("l")
        let users = self.users, refreshTokens = self.refreshTokens, botTokens = self.botTokens, isPostgres = database.isPostgres
        try await database.transaction { sql in
            if isPostgres { try await sql.raw("SELECT pg_advisory_xact_lock(7238296)").run() }
            guard try await botTokens.count(on: sql) < Self.maxBots else {
                throw APIError.limitReached("bots", "A server has at most \(Self.maxBots) bots")
            }
            guard try await users.insert(user, on: sql) else { throw APIError.internalError }
            try await refreshTokens.createTokenlessLogin(id: loginId, userId: id, now: now, on: sql)
            try await botTokens.insert(tokenHash: token.hash, userId: id, loginId: loginId, createdBy: createdBy, now: now, on: sql)
        }
        return (user, token.value)
    }

    public func listBots() async throws -> [UserRecord] {
        try await botTokens.bots()
    }

    /// Revokes a bot's token and closes its WebSockets; the account stays (deactivated) so its
    /// messages keep their sender.
    public func deleteBot(userId: String) async throws {
        let users = self.users, refreshTokens = self.refreshTokens, botTokens = self.botTokens, now = clock.now()
        try await events.commit(database) { sql in
            let user = try await existing(userId, on: sql)
            guard user.role == .bot, try await botTokens.delete(userId: user.id, on: sql) else {
                throw APIError.notFound("No such bot.")
            }
            if user.isActive { try await users.setDeactivated(now, id: user.id, on: sql) }
            let revoked = try await refreshTokens.revokeAll(userId: user.id, reason: "bot_deleted", now: now, on: sql)
            return ((), revoked.map { ChatEvent.loginRevoked(loginId: $0, userId: user.id) })
        }
    }
}
