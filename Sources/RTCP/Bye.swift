import ByteOrder

/// Goodbye (RFC 3550 §6.6), PT=203: SC SSRC/CSRC identifiers that leave, then optionally a reason
/// (`length (8) | text`). A publisher sends it when it stops a stream.
public struct Bye {
    /// Number of SSRCs (SC).
    public var count: Int
    private var ssrcs: UnsafeRawBufferPointer
    /// The reason text, if present and inside the packet.
    public var reason: UnsafeRawBufferPointer?

    /// Parses a BYE; nil if `packet` is not PT 203 or its SSRC list does not fit. A reason whose
    /// length runs past the end is ignored.
    public init?(parsing packet: RTCPPacketView) {
        guard packet.packetType == RTCPPacketView.goodbye else { return nil }
        let body = packet.body
        let count = Int(packet.format)
        guard body.count >= 4 * count else { return nil }
        self.count = count
        ssrcs = body.slice(0, 4 * count)
        reason = nil
        let r = 4 * count
        if r < body.count {
            let length = Int(body[r])
            if r + 1 + length <= body.count { reason = body.slice(r + 1, length) }
        }
    }

    /// The `index`th SSRC, nil when out of range.
    public func ssrc(at index: Int) -> UInt32? {
        guard index >= 0, index < count else { return nil }
        return ssrcs.readBE32(at: 4 * index)
    }

    /// Writes a BYE for one SSRC without a reason; returns 8, or 0 if `out` is too small.
    public static func write(into out: UnsafeMutableRawBufferPointer, ssrc: UInt32) -> Int {
        guard out.count >= 8 else { return 0 }
        writeRTCPHeader(out, count: 1, packetType: RTCPPacketView.goodbye, totalLength: 8)
        out.writeBE32(ssrc, at: 4)
        return 8
    }
}
