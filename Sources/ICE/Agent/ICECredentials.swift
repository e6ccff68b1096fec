import Crypto

/// The ICE username fragment and password of one side of one transport (RFC 8445 §5.3,
/// RFC 8839 §5.4). Parley gives every transport its own pair, announced in its SDP as
/// `a=ice-ufrag` / `a=ice-pwd`; the ufrag is how the one shared UDP port tells peers apart.
public struct ICECredentials: Hashable, Sendable {
    public var ufrag: String
    public var password: String

    public init(ufrag: String, password: String) {
        self.ufrag = ufrag
        self.password = password
    }

    /// ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839 §5.4).
    static let iceChars = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")

    /// Fresh random credentials: an 8-character ufrag (at least 24 bits of randomness, RFC 8445
    /// §5.3; short enough to be a small inline String, so looking it up never allocates) and a
    /// 24-character password (at least 128 bits, RFC 8445 §5.3; 144 bits here).
    public static func random() -> ICECredentials {
        var rng = SystemRandomNumberGenerator()
        func string(_ n: Int) -> String {
            String((0..<n).map { _ in iceChars[Int(rng.next(upperBound: UInt8(iceChars.count)))] })
        }
        return ICECredentials(ufrag: string(8), password: string(24))
    }

    /// The short-term MESSAGE-INTEGRITY key (RFC 8489 §9.1.1).
    public var key: SymmetricKey { STUNIntegrity.shortTermKey(password: password) }
}
