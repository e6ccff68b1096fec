import ByteOrder

/// RTCP receiver report (RFC 3550 §6.4.2), PT=201: `header | SSRC of packet sender | blocks...`.
/// The SFU sends them to publishers (loss and jitter of what it receives, and LSR/DLSR so the
/// publisher can measure round-trip time), and reads subscribers' to learn their loss.
public struct ReceiverReport {
    public var senderSSRC: UInt32
    /// Number of report blocks (RC).
    public var count: Int
    private var blocks: UnsafeRawBufferPointer

    /// Parses an RR; nil if `packet` is not PT 201 or its RC blocks do not fit in it.
    public init?(parsing packet: RTCPPacketView) {
        guard packet.packetType == RTCPPacketView.receiverReport else { return nil }
        let body = packet.body
        let count = Int(packet.format)
        guard body.count >= 4 + count * ReportBlock.length else { return nil }
        senderSSRC = body.readBE32(at: 0)
        self.count = count
        blocks = body.slice(4, count * ReportBlock.length)
    }

    /// The `index`th report block, nil when out of range.
    public func reportBlock(at index: Int) -> ReportBlock? {
        guard index >= 0, index < count else { return nil }
        return ReportBlock(parsing: blocks.slice(index * ReportBlock.length, ReportBlock.length))
    }

    /// Writes an RR with zero or one block (an empty RR is what RFC 3550 §6.4.2 asks for when
    /// nothing was received); returns its length (8 or 32), or 0 if `out` is too small.
    public static func write(into out: UnsafeMutableRawBufferPointer, senderSSRC: UInt32, block: ReportBlock?) -> Int {
        let length = 8 + (block == nil ? 0 : ReportBlock.length)
        guard out.count >= length else { return 0 }
        writeRTCPHeader(out, count: block == nil ? 0 : 1, packetType: RTCPPacketView.receiverReport, totalLength: length)
        out.writeBE32(senderSSRC, at: 4)
        block?.serialize(into: out, at: 8)
        return length
    }

    /// Writes an RR with up to 31 blocks (the RC limit; more are left out); returns its length,
    /// or 0 if `out` is too small.
    public static func write(into out: UnsafeMutableRawBufferPointer, senderSSRC: UInt32,
                             blocks: UnsafeBufferPointer<ReportBlock>) -> Int {
        let n = min(blocks.count, 31)
        let length = 8 + n * ReportBlock.length
        guard out.count >= length else { return 0 }
        writeRTCPHeader(out, count: UInt8(n), packetType: RTCPPacketView.receiverReport, totalLength: length)
        out.writeBE32(senderSSRC, at: 4)
        var i = 0
        while i < n {
            blocks[i].serialize(into: out, at: 8 + i * ReportBlock.length)
            i += 1
        }
        return length
    }
}
