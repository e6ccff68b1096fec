import Crypto
import Foundation

/// A refresh token: 256 random bits sent to the client once, stored only as its SHA-256.
public struct RefreshToken: Sendable {
    public static let lifetimeMilliseconds: Int64 = 30 * 24 * 3600 * 1000

    public let value: String

    public static func generate() -> RefreshToken {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return RefreshToken(value: Base64URL.encode(bytes))
    }

    public init(value: String) { self.value = value }

    /// What the database keeps: a leaked table reveals no usable token.
    public var hash: String { Self.hash(of: value) }

    public static func hash(of value: String) -> String {
        SHA256.hash(data: Data(value.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
