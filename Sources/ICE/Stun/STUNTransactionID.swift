import ByteOrder

/// The 96-bit transaction ID (RFC 8489 §5). Stored inline (no heap) as 12 bytes.
public struct STUNTransactionID: Sendable, Hashable, CustomStringConvertible {
    public var high: UInt32
    public var low: UInt64

    public init(high: UInt32, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Reads 12 bytes, big-endian, from `bytes` (which must hold at least 12).
    public init(bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count >= 12)
        self.high = bytes.readBE32(at: 0)
        self.low = UInt64(bytes.readBE32(at: 4)) << 32 | UInt64(bytes.readBE32(at: 8))
    }

    public init(_ bytes: [UInt8]) {
        self = bytes.withUnsafeBytes { STUNTransactionID(bytes: $0) }
    }

    /// A cryptographically random ID, as RFC 8489 §6 requires for requests.
    public static func random() -> STUNTransactionID {
        var rng = SystemRandomNumberGenerator()
        return STUNTransactionID(high: rng.next(), low: rng.next())
    }

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.appendBE32(high)
        out.appendBE32(UInt32(truncatingIfNeeded: low >> 32))
        out.appendBE32(UInt32(truncatingIfNeeded: low))
        return out
    }

    public var description: String {
        bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
