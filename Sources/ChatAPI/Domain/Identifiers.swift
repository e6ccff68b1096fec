import Foundation

/// Base64 with the URL-safe alphabet and no padding (RFC 4648 §5), as in JWTs and our tokens.
enum Base64URL {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: some StringProtocol) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
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
/// order within a conversation (docs/protocol.md "Conventions") and turn back into the sequence for cursors.
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
