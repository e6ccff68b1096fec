import ByteOrder

/// RTCP sender report (RFC 3550 §6.4.1), PT=200, RC report blocks:
///
/// ```
/// header | SSRC of sender | NTP timestamp (64) | RTP timestamp | packet count | octet count | blocks...
/// ```
/// The SFU sends one per outgoing stream so subscribers can synchronise audio and video (lip
/// sync), and reads the publishers' to compute round-trip time and to map RTP to wall-clock time.
/// Report blocks are read on demand from the borrowed buffer, so parsing allocates nothing.
public struct SenderReport {
    public var ssrc: UInt32
    /// NTP format: seconds since 1900 in the high 32 bits, fraction in the low 32 (RFC 3550 §4).
    public var ntpTimestamp: UInt64
    public var rtpTimestamp: UInt32
    public var packetCount: UInt32
    public var octetCount: UInt32
    /// Number of report blocks (RC).
    public var count: Int
    private var blocks: UnsafeRawBufferPointer

    /// Fixed part after the common header: SSRC and the 20-byte sender info.
    public static let senderInfoEnd = 28

    /// Parses an SR; nil if `packet` is not PT 200 or its RC blocks do not fit in it.
    public init?(parsing packet: RTCPPacketView) {
        guard packet.packetType == RTCPPacketView.senderReport else { return nil }
        let body = packet.body
        let count = Int(packet.format)
        guard body.count >= Self.senderInfoEnd - 4 + count * ReportBlock.length else { return nil }
        ssrc = body.readBE32(at: 0)
        ntpTimestamp = body.readBE64(at: 4)
        rtpTimestamp = body.readBE32(at: 12)
        packetCount = body.readBE32(at: 16)
        octetCount = body.readBE32(at: 20)
        self.count = count
        blocks = body.slice(24, count * ReportBlock.length)
    }

    /// The `index`th report block, nil when out of range.
    public func reportBlock(at index: Int) -> ReportBlock? {
        guard index >= 0, index < count else { return nil }
        return ReportBlock(parsing: blocks.slice(index * ReportBlock.length, ReportBlock.length))
    }

    /// Writes an SR with zero or one report block; returns its length (28 or 52), or 0 if `out`
    /// is too small.
    public static func write(into out: UnsafeMutableRawBufferPointer, ssrc: UInt32, ntpTimestamp: UInt64,
                             rtpTimestamp: UInt32, packetCount: UInt32, octetCount: UInt32,
                             block: ReportBlock? = nil) -> Int {
        let length = senderInfoEnd + (block == nil ? 0 : ReportBlock.length)
        guard out.count >= length else { return 0 }
        writeRTCPHeader(out, count: block == nil ? 0 : 1, packetType: RTCPPacketView.senderReport, totalLength: length)
        out.writeBE32(ssrc, at: 4)
        out.writeBE64(ntpTimestamp, at: 8)
        out.writeBE32(rtpTimestamp, at: 16)
        out.writeBE32(packetCount, at: 20)
        out.writeBE32(octetCount, at: 24)
        block?.serialize(into: out, at: senderInfoEnd)
        return length
    }
}
