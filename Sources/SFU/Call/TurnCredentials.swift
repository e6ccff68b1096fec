import Crypto
import Foundation

/// Ephemeral TURN credentials in the "TURN REST API" form that coturn's `use-auth-secret`
/// checks (draft-uberti-behave-turn-rest-00 §2.2): the username is `<unix expiry>:<userId>`
/// and the password is base64(HMAC-SHA1(shared secret, username)). coturn recomputes the
/// HMAC with its `static-auth-secret` and refuses the allocation once the expiry has passed,
/// so nothing needs to be stored and a leaked credential dies on its own.
public struct TurnCredentials: Sendable, Equatable {
    public var username: String
    public var credential: String

    /// - Parameters:
    ///   - now: seconds since 1970 (injected, so tests need no clock).
    ///   - ttl: how long the credential is valid, in seconds (`TURN_TTL`).
    public init(secret: String, userId: String, now: Int, ttl: Int) {
        username = "\(now + ttl):\(userId)"
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data(username.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        credential = Data(mac).base64EncodedString()
    }
}
