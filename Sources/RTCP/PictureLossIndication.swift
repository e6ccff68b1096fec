import ByteOrder

/// Picture Loss Indication (RFC 4585 §6.3.1): PSFB (PT=206) with FMT=1 and no FCI, 12 bytes:
/// `header | SSRC of packet sender | SSRC of media source`. A subscriber sends it when it cannot
/// decode; the SFU forwards a (rate limited) PLI to the publisher to get a keyframe.
public struct PictureLossIndication: Equatable, Sendable {
    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32

    public static let format: UInt8 = 1
    public static let length = 12

    public init(senderSSRC: UInt32, mediaSSRC: UInt32) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
    }

    /// Parses a PLI; nil if `packet` is not PSFB FMT 1 or is shorter than the two SSRCs.
    public init?(parsing packet: RTCPPacketView) {
        guard packet.packetType == RTCPPacketView.payloadFeedback, packet.format == Self.format else { return nil }
        let body = packet.body
        guard body.count >= 8 else { return nil }
        senderSSRC = body.readBE32(at: 0)
        mediaSSRC = body.readBE32(at: 4)
    }

    /// Writes the 12-byte PLI; returns 12, or 0 if `out` is too small.
    public static func write(into out: UnsafeMutableRawBufferPointer, senderSSRC: UInt32, mediaSSRC: UInt32) -> Int {
        guard out.count >= length else { return 0 }
        writeRTCPHeader(out, count: format, packetType: RTCPPacketView.payloadFeedback, totalLength: length)
        out.writeBE32(senderSSRC, at: 4)
        out.writeBE32(mediaSSRC, at: 8)
        return length
    }
}
