import Crypto

/// A MESSAGE-INTEGRITY key made ready once: the HMAC-SHA1 state after keying is kept and copied
/// for every message, which saves re-deriving the inner and outer pads from the key on each
/// check (measured: keying is most of the cost of swift-crypto's HMAC on a 100-byte message).
public struct STUNIntegrityKey {
    public let symmetricKey: SymmetricKey
    private let keyed: HMAC<Insecure.SHA1>

    public init(_ key: SymmetricKey) {
        self.symmetricKey = key
        self.keyed = HMAC<Insecure.SHA1>(key: key)
    }

    /// The short-term key of an ICE password (RFC 8489 §9.1.1).
    public init(password: String) {
        self.init(STUNIntegrity.shortTermKey(password: password))
    }

    /// HMAC-SHA1 of `bytes`, in one update.
    @inline(__always)
    func mac(_ bytes: UnsafeRawBufferPointer) -> HMAC<Insecure.SHA1>.MAC {
        var h = keyed
        h.update(data: bytes)
        return h.finalize()
    }
}
