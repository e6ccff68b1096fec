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

enum Base64URL {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// Opaque random identifiers for users, logins and conversations: a kind prefix and 128 random bits.
public enum Identifier {
    public static func make(_ prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return prefix + "_" + Base64URL.encode(bytes)
    }
}

/// Message ids are the stored sequence number in fixed-width base 36, so they sort in send
/// order within a conversation (PROTOCOL.md) and turn back into the sequence for cursors.
public enum MessageID {
    static let width = 13

    public static func format(_ seq: Int64) -> String {
        let digits = String(seq, radix: 36)
        return "m" + String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// The sequence number of a well-formed id: only the canonical spelling (lower case, no
    /// sign) is accepted, so an id clients compare is always the one the server formats.
    public static func parse(_ id: String) -> Int64? {
        guard id.utf8.count == width + 1, id.hasPrefix("m"),
              id.utf8.dropFirst().allSatisfy({ (48...57).contains($0) || (97...122).contains($0) }),
              let seq = Int64(id.dropFirst(), radix: 36), seq > 0
        else { return nil }
        return seq
    }
}
