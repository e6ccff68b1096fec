import ByteOrder

/// One reception report block of an SR or RR (RFC 3550 §6.4.1), 24 bytes:
/// SSRC, fraction lost (8), cumulative number of packets lost (24, signed), extended highest
/// sequence number received, interarrival jitter, last SR (LSR) and delay since last SR (DLSR).
public struct ReportBlock: Equatable, Sendable {
    public var ssrc: UInt32
    /// Fraction of packets lost since the previous report, as a fixed point number with the binary
    /// point at the left edge (lost × 256 / expected).
    public var fractionLost: UInt8
    /// Cumulative packets lost, a 24-bit signed value on the wire (duplicates can make it
    /// negative); writing clamps to -8388608...8388607.
    public var cumulativeLost: Int32
    /// Cycle count in the high 16 bits, highest sequence number received in the low 16.
    public var highestSequence: UInt32
    /// Interarrival jitter in timestamp units (RFC 3550 §6.4.1, A.8).
    public var jitter: UInt32
    /// Middle 32 bits of the NTP timestamp of the last SR received from this source, 0 if none.
    public var lastSR: UInt32
    /// Delay since receiving that SR, in units of 1/65536 s.
    public var delaySinceLastSR: UInt32

    public static let length = 24

    public init(ssrc: UInt32, fractionLost: UInt8, cumulativeLost: Int32, highestSequence: UInt32,
                jitter: UInt32, lastSR: UInt32, delaySinceLastSR: UInt32) {
        self.ssrc = ssrc
        self.fractionLost = fractionLost
        self.cumulativeLost = cumulativeLost
        self.highestSequence = highestSequence
        self.jitter = jitter
        self.lastSR = lastSR
        self.delaySinceLastSR = delaySinceLastSR
    }

    /// Parses the first 24 bytes of `bytes`; nil if there are fewer.
    public init?(parsing bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= Self.length else { return nil }
        ssrc = bytes.readBE32(at: 0)
        fractionLost = bytes[4]
        let raw = bytes.readBE24(at: 5)
        cumulativeLost = raw & 0x80_0000 != 0 ? Int32(raw) - 0x100_0000 : Int32(raw)
        highestSequence = bytes.readBE32(at: 8)
        jitter = bytes.readBE32(at: 12)
        lastSR = bytes.readBE32(at: 16)
        delaySinceLastSR = bytes.readBE32(at: 20)
    }

    /// Writes the 24 bytes at `offset`; returns 24, or 0 if they do not fit.
    @discardableResult
    public func serialize(into out: UnsafeMutableRawBufferPointer, at offset: Int = 0) -> Int {
        guard offset >= 0, offset + Self.length <= out.count else { return 0 }
        out.writeBE32(ssrc, at: offset)
        out[offset + 4] = fractionLost
        let lost = min(max(cumulativeLost, -0x80_0000), 0x7F_FFFF)
        out.writeBE24(UInt32(bitPattern: lost) & 0xFF_FFFF, at: offset + 5)
        out.writeBE32(highestSequence, at: offset + 8)
        out.writeBE32(jitter, at: offset + 12)
        out.writeBE32(lastSR, at: offset + 16)
        out.writeBE32(delaySinceLastSR, at: offset + 20)
        return Self.length
    }
}
