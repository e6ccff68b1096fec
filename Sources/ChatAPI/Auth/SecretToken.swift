import Crypto
import Foundation

/// A bearer secret handed out once (an invitation code, a bot's API token, a webhook's URL
/// secret): 256 random bits (128 for invitation codes, which people paste), base64url, with a short prefix that says what it is (so a token
/// pasted in the wrong place is recognised, and secret scanners can find leaked ones). Only
/// its SHA-256 is stored: a leaked table opens nothing. With 256 random bits a plain hash
/// suffices; bcrypt's slowness guards guessable passwords, which these are not.
public struct SecretToken: Sendable {
    public let value: String

    public static func generate(prefix: String, bytes count: Int = 32) -> SecretToken {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return SecretToken(value: prefix + Base64URL.encode(bytes))
    }

    public init(value: String) { self.value = value }

    public var hash: String { Self.hash(of: value) }

    public static func hash(of value: String) -> String { RefreshToken.hash(of: value) }

    /// Compares two hex digests without stopping at the first difference, so the time taken
    /// says nothing about how much of a guessed secret was right.
    public static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }

    /// A bot's API token starts with this; an access token (a JWT) never does, which is how
    /// `AuthService.authenticate` tells the two apart.
    public static let botPrefix = "pbot_"
}
