import Foundation
import Logging

/// The result of a successful register, login or refresh.
public struct AuthResponseDTO: Codable, Sendable {
    public var user: UserDTO
    public var accessToken: String
    public var refreshToken: String
    public var expiresIn: Int64
}

/// Accounts and sessions: registration (under the `RegistrationPolicy`), login, refresh-token
/// rotation, logout, password changes, and turning an access token or a bot's API token into an
/// `AuthContext` (with the login's revocation checked every time).
public struct AuthService: Sendable {
    let users: UserStore
    let refreshTokens: RefreshTokenStore
    let invites: InviteStore
    let botTokens: BotTokenStore
    let hasher: PasswordHasher
    public let accessTokens: AccessTokens
    let clock: WallClock
    let presence: PresenceLookup
    let database: Database
    let events: ChatEventSink
    let registration: RegistrationPolicy

    public static let registrationClosed = APIError(
        .forbidden, code: "registration_closed",
        message: "Registration on this server needs a valid invitation, or is closed.")
    public static let accountDeactivated = APIError(
        .forbidden, code: "account_deactivated", message: "This account has been deactivated by an administrator.")

    /// Creates an account and signs it in. The first account of an empty server is always let in
    /// and becomes its administrator; after that the policy decides, and under `invite` one use
    /// of `inviteCode` is spent in the same transaction that creates the account.
    public func register(email rawEmail: String, password: String, displayName: String, inviteCode: String? = nil)
        async throws -> AuthResponseDTO
    {
        let email = try Validate.email(rawEmail)
        try Validate.password(password)
        try Validate.displayName(displayName)
        if let inviteCode { try Validate.identifier(inviteCode, field: "inviteCode") }
        // Check first so that a taken email costs no bcrypt time; the insert still guards races.
        if try await users.find(email: email) != nil { throw APIError.conflict("email_taken", "An account with this email exists.") }
        let hash = try await hasher.hash(password)
        let now = clock.now()
        let user = UserRecord(id: Identifier.make("u"), email: email, passwordHash: hash, displayName: displayName, createdAt: now)
        let token = RefreshToken.generate()
        let loginId = Identifier.make("l")
        let users = self.users, refreshTokens = self.refreshTokens, invites = self.invites
        let policy = registration, isPostgres = database.isPostgres
        let codeHash = inviteCode.map(SecretToken.hash(of:))
        let created: UserRecord? = try await database.transaction { sql in
            var record = user
            // Registrations queue here on PostgreSQL, so two first registrations of an empty
            // server cannot both find it empty (SQLite runs one transaction at a time anyway).
            if isPostgres { try await sql.raw("SELECT pg_advisory_xact_lock(7238293)").run() }
            if try await users.hasAny(on: sql) {
                switch policy {
                case .open: break
                case .closed: throw Self.registrationClosed
                case .invite:
                    guard let codeHash, try await invites.redeem(codeHash: codeHash, now: now, on: sql) else {
                        throw Self.registrationClosed
                    }
                }
            } else {
                record.role = .admin
            }
            guard try await users.insert(record, on: sql) else { return nil }
            try await refreshTokens.createLogin(id: loginId, userId: record.id, firstToken: token, now: now, on: sql)
            return record
        }
        guard let created else { throw APIError.conflict("email_taken", "An account with this email exists.") }
        return try await response(user: created, loginId: loginId, refreshToken: token)
    }

    public func login(email rawEmail: String, password: String) async throws -> AuthResponseDTO {
        let email = rawEmail.trimmingCharacters(in: .whitespaces).lowercased()
        let user = email.utf8.contains(0) ? nil : try await users.find(email: email)
        // A bot has no password: it is checked against the decoy, costing the same time.
        let hash = user?.role == .bot ? nil : user?.passwordHash
        guard try await hasher.verify(password, hash: hash), let user else { throw APIError.invalidCredentials }
        // Only after the password matched, so the answer tells a stranger nothing.
        guard user.isActive else { throw Self.accountDeactivated }
        let token = RefreshToken.generate()
        let loginId = Identifier.make("l")
        let now = clock.now()
        let refreshTokens = self.refreshTokens
        try await database.transaction { sql in
            try await refreshTokens.createLogin(id: loginId, userId: user.id, firstToken: token, now: now, on: sql)
        }
        return try await response(user: user, loginId: loginId, refreshToken: token)
    }

    public func refresh(_ presented: String) async throws -> AuthResponseDTO {
        let next = RefreshToken.generate()
        switch try await refreshTokens.rotate(presented: presented, next: next, now: clock.now()) {
        case .invalid:
            throw APIError.unauthorized("Unknown, expired or revoked refresh token.")
        case .contended:
            throw APIError.rateLimited(retryAfter: 1)
        case .reused(let userId, let loginId):
            await announceRevoked(userId: userId, loginIds: [loginId])
            throw APIError.tokenReused
        case .rotated(let userId, let loginId):
            // Deactivation revokes every login; this covers a refresh that raced it.
            guard let user = try await users.find(id: userId), user.isActive else { throw APIError.unauthorized() }
            return try await response(user: user, loginId: loginId, refreshToken: next)
        }
    }

    public func logout(_ presented: String) async throws {
        guard let (userId, loginId) = try await refreshTokens.logout(presented: presented, now: clock.now()) else {
            throw APIError.unauthorized("Unknown refresh token.")
        }
        await announceRevoked(userId: userId, loginIds: [loginId])
    }

    /// `POST /auth/logout-all`: ends every login of the caller, this one included.
    public func logoutAll(_ caller: AuthContext) async throws {
        try await revokeLogins(userId: caller.userId, reason: "logout_all")
    }

    /// `POST /users/me/password`: checks the current password, stores the new one and ends every
    /// other login of the caller (a thief who knew the old password is out).
    public func changePassword(_ caller: AuthContext, current: String, new: String) async throws {
        guard current.utf8.count <= 1024 else { throw Self.wrongPassword }
        try Validate.password(new, field: "newPassword")
        guard let user = try await users.find(id: caller.userId) else { throw APIError.unauthorized() }
        guard user.role != .bot else { throw APIError.forbidden("A bot has no password.") }
        guard try await hasher.verify(current, hash: user.passwordHash) else { throw Self.wrongPassword }
        let hash = try await hasher.hash(new)
        try await setPassword(userId: user.id, hash: hash, keeping: caller.loginId, reason: "password_changed")
    }

    /// 403, not 401: the caller's token is fine, and a client must not take this for a lost session.
    static let wrongPassword = APIError(.forbidden, code: "invalid_credentials", message: "The current password is wrong.")

    /// Stores a new password hash and revokes every login of the user but `keeping`, announcing
    /// the revocations; shared by the password change and the console's reset-password.
    func setPassword(userId: String, hash: String, keeping: String?, reason: String) async throws {
        let users = self.users, refreshTokens = self.refreshTokens, now = clock.now()
        try await events.commit(database) { sql in
            try await users.setPassword(id: userId, hash: hash, on: sql)
            let revoked = try await refreshTokens.revokeAll(userId: userId, except: keeping, reason: reason, now: now, on: sql)
            return ((), revoked.map { ChatEvent.loginRevoked(loginId: $0, userId: userId) })
        }
    }

    /// Revokes every login of the user and ends their WebSockets on every instance.
    func revokeLogins(userId: String, reason: String) async throws {
        let refreshTokens = self.refreshTokens, now = clock.now()
        try await events.commit(database) { sql in
            let revoked = try await refreshTokens.revokeAll(userId: userId, reason: reason, now: now, on: sql)
            return ((), revoked.map { ChatEvent.loginRevoked(loginId: $0, userId: userId) })
        }
    }

    /// Tells every instance to end the logins' WebSocket sessions. The revocation is already
    /// committed; should the announcement itself fail, those sessions last until they close.
    private func announceRevoked(userId: String, loginIds: [String]) async {
        try? await events.commit(database) { _ in ((), loginIds.map { ChatEvent.loginRevoked(loginId: $0, userId: userId) }) }
    }

    /// Verifies an access token, or a bot's API token, and that its login is still live.
    public func authenticate(bearer token: String) async throws -> AuthContext {
        if token.hasPrefix(SecretToken.botPrefix) {
            guard token.utf8.count <= 200, let context = try await botTokens.resolve(tokenHash: SecretToken.hash(of: token)) else {
                throw APIError.unauthorized()
            }
            return context
        }
        let context = try await accessTokens.verify(token)
        guard try await refreshTokens.isLive(loginId: context.loginId, userId: context.userId) else {
            throw APIError.unauthorized()
        }
        return context
    }

    private func response(user: UserRecord, loginId: String, refreshToken: RefreshToken) async throws -> AuthResponseDTO {
        let access = try await accessTokens.issue(userId: user.id, loginId: loginId)
        return AuthResponseDTO(
            user: user.dto(online: presence.isOnline(user.id), includeEmail: true, includeStatus: true),
            accessToken: access, refreshToken: refreshToken.value, expiresIn: AccessTokens.lifetimeSeconds)
    }
}

extension UserRecord {
    /// `includeStatus`: the caller's own account, or an administrator looking: `deactivatedAt` is shown.
    public func dto(online: Bool, includeEmail: Bool = false, includeStatus: Bool = false) -> UserDTO {
        UserDTO(id: id, displayName: displayName, avatarUrl: avatarUrl, online: online, lastSeenAt: lastSeenAt,
                email: includeEmail ? email : nil, role: role, deactivatedAt: includeStatus ? .some(deactivatedAt) : .none)
    }

    /// The user as someone else finds them: presence (`online`, `lastSeenAt`) and the email only
    /// for those who share a conversation with them (the email tells two people of one name
    /// apart); strangers see `online: false, lastSeenAt: null` and no email, so a search cannot
    /// harvest addresses.
    public func dto(seenBy isContact: Bool, presence: PresenceLookup) -> UserDTO {
        var user = dto(online: isContact && presence.isOnline(id), includeEmail: isContact)
        if !isContact { user.lastSeenAt = nil }
        return user
    }
}
