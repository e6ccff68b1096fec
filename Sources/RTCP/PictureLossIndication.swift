import ByteOrder

/// Picture Loss Indication (RFC 4585 §6.3.1): PSFB (PT=206) with FMT=1 and no FCI, 12 bytes:
/// `header | SSRC of packet sender | SSRC of media source`. A subscriber sends it when it cannot
/// decode; the SFU forwards a (rate limited) PLI to the publisher to get a keyframe.
public struct PictureLossIndication: Equatable, Sendable {
    public var senderSsrc: UInt32
    public var mediaSsrc: UInt32

    public static let format: UInt8 = 1
    public static let length = 12

    public init(senderSsrc: UInt32, mediaSsrc: UInt32) {
        self.senderSsrc = senderSsrc
        self.mediaSsrc = mediaSsrc
    }

    /// Parses a PLI; nil if `packet` is not PSFB FMT 1 or is shorter than the two SSRCs.
    public init?(parsing packet: RtcpPacketView) {
        guard packet.packetType == RtcpPacketView.payloadFeedback, packet.format == Self.format else { return nil }
        let body = packet.body
        guard body.count >= 8 else { return nil }
        senderSsrc = body.readBE32(at: 0)
        mediaSsrc = body.readBE32(at: 4)
    }

    /// Writes the 12-byte PLI; returns 12, or 0 if `out` is too small.
    public static func write(into out: UnsafeMutableRawBufferPointer, senderSsrc: UInt32, mediaSsrc: UInt32) -> Int {
        guard out.count >= length else { return 0 }
        writeRtcpHeader(out, count: format, packetType: RtcpPacketView.payloadFeedback, totalLength: length)
        out.writeBE32(senderSsrc, at: 4)
        out.writeBE32(mediaSsrc, at: 8)
        return length
    }
}
