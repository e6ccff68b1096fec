import Foundation
import JWTKit

/// The claims of a Parley access token. `sid` names the login (refresh-token family) it was
/// issued under, so that logout and reuse detection can revoke access tokens too.
public struct AccessClaims: JWTPayload, Equatable {
    public var sub: SubjectClaim
    public var sid: String
    public var iss: IssuerClaim
    public var aud: AudienceClaim
    public var exp: ExpirationClaim
    public var iat: IssuedAtClaim

    public init(sub: SubjectClaim, sid: String, iss: IssuerClaim, aud: AudienceClaim, exp: ExpirationClaim, iat: IssuedAtClaim) {
        self.sub = sub
        self.sid = sid
        self.iss = iss
        self.aud = aud
        self.exp = exp
        self.iat = iat
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {
        // Checked in `AccessTokens.verify` against the injected clock and fixed issuer/audience.
    }
}

/// Who is calling: made once from a verified access token and handed to REST routes,
/// WebSocket sessions and call joins alike.
public struct AuthContext: Sendable, Equatable {
    public var userId: String
    public var loginId: String
    public init(userId: String, loginId: String) {
        self.userId = userId
        self.loginId = loginId
    }
}

/// Signs and verifies HS256 access tokens. The algorithm, issuer, audience and expiry are all
/// fixed here and checked; nothing about verification is taken from the token's own header
/// (RFC 8725 §2.1, §3.1).
public struct AccessTokens: Sendable {
    public static let issuer = "parley"
    public static let audience = "parley-api"
    public static let lifetimeSeconds: Int64 = 15 * 60

    private let keys: JWTKeyCollection
    private let clock: WallClock

    /// `secret` must be at least 32 bytes (jwt-kit traps on shorter HMAC keys; configuration
    /// rejects them before this point).
    public init(secret: String, clock: WallClock) async {
        precondition(secret.utf8.count >= 32, "JWT signing key shorter than 32 bytes")
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        self.keys = keys
        self.clock = clock
    }

    public func issue(userId: String, loginId: String) async throws -> String {
        let now = clock.now()
        let claims = AccessClaims(
            sub: .init(value: userId), sid: loginId,
            iss: .init(value: Self.issuer), aud: .init(value: [Self.audience]),
            exp: .init(value: Date(timeIntervalSince1970: Double(now.milliseconds / 1000 + Self.lifetimeSeconds))),
            iat: .init(value: Date(timeIntervalSince1970: Double(now.milliseconds / 1000))))
        return try await keys.sign(claims, header: ["typ": "JWT"])
    }

    /// Verifies signature, algorithm, issuer, audience and expiry; returns who the token names.
    /// Revocation of the login is checked separately, against the database.
    public func verify(_ token: String) async throws(APIError) -> AuthContext {
        guard token.utf8.count < 4096, Self.headerAlgorithm(of: token) == "HS256" else { throw .unauthorized() }
        let claims: AccessClaims
        do {
            claims = try await keys.verify(token, as: AccessClaims.self)
        } catch {
            throw .unauthorized()
        }
        let now = clock.now().date
        guard claims.iss.value == Self.issuer,
              claims.aud.value == [Self.audience],
              claims.exp.value > now
        else { throw .unauthorized() }
        return AuthContext(userId: claims.sub.value, loginId: claims.sid)
    }

    /// The `alg` of a compact JWS header, read without trusting anything else in it.
    static func headerAlgorithm(of token: String) -> String? {
        guard let headerPart = token.split(separator: ".", omittingEmptySubsequences: false).first,
              let data = Base64URL.decode(headerPart),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return object["alg"] as? String
    }
}
