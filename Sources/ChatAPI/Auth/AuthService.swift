import Foundation
import Logging

/// The result of a successful register, login or refresh.
public struct AuthResponseDTO: Codable, Sendable {
    public var user: UserDTO
    public var accessToken: String
    public var refreshToken: String
    public var expiresIn: Int64
}

/// Accounts and sessions: registration, login, refresh-token rotation, logout, and turning an
/// access token into an `AuthContext` (with the login's revocation checked every time).
public struct AuthService: Sendable {
    let users: UserStore
    let refreshTokens: RefreshTokenStore
    let hasher: PasswordHasher
    public let accessTokens: AccessTokens
    let clock: WallClock
    let presence: PresenceLookup
    let database: Database
    let events: ChatEventSink

    public func register(email rawEmail: String, password: String, displayName: String) async throws -> AuthResponseDTO {
        let email = try Validate.email(rawEmail)
        try Validate.password(password)
        try Validate.displayName(displayName)
        // Check first so that a taken email costs no bcrypt time; the insert still guards races.
        if try await users.find(email: email) != nil { throw APIError.conflict("email_taken", "An account with this email exists.") }
        let hash = try await hasher.hash(password)
        let now = clock.now()
        let user = UserRecord(id: Identifier.make("u"), email: email, passwordHash: hash, displayName: displayName, createdAt: now)
        let token = RefreshToken.generate()
        let loginId = Identifier.make("l")
        let users = self.users, refreshTokens = self.refreshTokens
        let inserted = try await database.transaction { sql in
            guard try await users.insert(user, on: sql) else { return false }
            try await refreshTokens.createLogin(id: loginId, userId: user.id, firstToken: token, now: now, on: sql)
            return true
        }
        guard inserted else { throw APIError.conflict("email_taken", "An account with this email exists.") }
        return try await response(user: user, loginId: loginId, refreshToken: token)
    }

    public func login(email rawEmail: String, password: String) async throws -> AuthResponseDTO {
        let email = rawEmail.trimmingCharacters(in: .whitespaces).lowercased()
        let user = email.utf8.contains(0) ? nil : try await users.find(email: email)
        guard try await hasher.verify(password, hash: user?.passwordHash), let user else { throw APIError.invalidCredentials }
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
            await announceRevoked(userId: userId, loginId: loginId)
            throw APIError.tokenReused
        case .rotated(let userId, let loginId):
            guard let user = try await users.find(id: userId) else { throw APIError.unauthorized() }
            return try await response(user: user, loginId: loginId, refreshToken: next)
        }
    }

    public func logout(_ presented: String) async throws {
        guard let (userId, loginId) = try await refreshTokens.logout(presented: presented, now: clock.now()) else {
            throw APIError.unauthorized("Unknown refresh token.")
        }
        await announceRevoked(userId: userId, loginId: loginId)
    }

    /// Tells every instance to end the login's WebSocket sessions. The revocation is already
    /// committed; should the announcement itself fail, those sessions last until they close.
    private func announceRevoked(userId: String, loginId: String) async {
        try? await events.commit(database) { _ in ((), [.loginRevoked(loginId: loginId, userId: userId)]) }
    }

    /// Verifies an access token and that its login is still live.
    public func authenticate(bearer token: String) async throws -> AuthContext {
        let context = try await accessTokens.verify(token)
        guard try await refreshTokens.isLive(loginId: context.loginId, userId: context.userId) else {
            throw APIError.unauthorized()
        }
        return context
    }

    private func response(user: UserRecord, loginId: String, refreshToken: RefreshToken) async throws -> AuthResponseDTO {
        let access = try await accessTokens.issue(userId: user.id, loginId: loginId)
        return AuthResponseDTO(
            user: user.dto(online: presence.isOnline(user.id), includeEmail: true),
            accessToken: access, refreshToken: refreshToken.value, expiresIn: AccessTokens.lifetimeSeconds)
    }
}

extension UserRecord {
    public func dto(online: Bool, includeEmail: Bool = false) -> UserDTO {
        UserDTO(id: id, displayName: displayName, avatarUrl: avatarUrl, online: online, lastSeenAt: lastSeenAt,
                email: includeEmail ? email : nil)
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
