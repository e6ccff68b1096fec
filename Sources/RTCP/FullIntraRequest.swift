import ByteOrder

/// Full Intra Request (RFC 5104 §4.3.1): PSFB (PT=206) with FMT=4. The common "SSRC of media
/// source" is unused (SHALL be 0); each 8-byte FCI entry names the media sender and carries a
/// command sequence number `SSRC | Seq nr. (8) | Reserved (24)`. A repeated request keeps its
/// sequence number; a new request increments it (RFC 5104 §4.3.1.2).
public struct FullIntraRequest: Equatable, Sendable {
    public var senderSSRC: UInt32
    /// The first FCI entry's media sender SSRC.
    public var ssrc: UInt32
    /// The first FCI entry's command sequence number.
    public var sequenceNumber: UInt8
    /// Number of FCI entries (at least 1).
    public var count: Int

    public static let format: UInt8 = 4
    public static let length = 20

    /// Parses a FIR; nil if `packet` is not PSFB FMT 4 or has no complete FCI entry.
    public init?(parsing packet: RTCPPacketView) {
        guard packet.packetType == RTCPPacketView.payloadFeedback, packet.format == Self.format else { return nil }
        let body = packet.body
        guard body.count >= 16 else { return nil }
        senderSSRC = body.readBE32(at: 0)
        ssrc = body.readBE32(at: 8)
        sequenceNumber = body[12]
        count = (body.count - 8) / 8
    }

    /// Reads the `index`th FCI entry of `packet` (already parsed as a FIR), nil when out of range.
    public static func entry(at index: Int, in packet: RTCPPacketView) -> (ssrc: UInt32, sequenceNumber: UInt8)? {
        let body = packet.body
        let offset = 8 + index * 8
        guard index >= 0, offset + 8 <= body.count else { return nil }
        return (body.readBE32(at: offset), body[offset + 4])
    }

    /// Writes a FIR with one entry for `mediaSSRC`; returns 20, or 0 if `out` is too small.
    public static func write(into out: UnsafeMutableRawBufferPointer, senderSSRC: UInt32, mediaSSRC: UInt32,
                             sequenceNumber: UInt8) -> Int {
        guard out.count >= length else { return 0 }
        writeRTCPHeader(out, count: format, packetType: RTCPPacketView.payloadFeedback, totalLength: length)
        out.writeBE32(senderSSRC, at: 4)
        out.writeBE32(0, at: 8)
        out.writeBE32(mediaSSRC, at: 12)
        out[16] = sequenceNumber
        out.zero(from: 17, count: 3)
        return length
    }
}
