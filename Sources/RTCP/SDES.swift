import ByteOrder

/// Source description (RFC 3550 §6.5), PT=202, SC chunks of `SSRC | items...`, each item
/// `type (8) | length (8) | text`, a chunk ended by one or more null octets up to a 32-bit boundary.
/// WebRTC needs only CNAME (type 1, §6.5.1), which every compound RTCP packet carries (§6.1).
public enum SDES {
    public static let cnameItem: UInt8 = 1

    /// Writes an SDES packet with one chunk holding the CNAME; returns its length, or 0 if `out`
    /// is too small or the CNAME is empty or longer than 255 bytes.
    public static func writeCname(into out: UnsafeMutableRawBufferPointer, ssrc: UInt32, cname: UnsafeRawBufferPointer) -> Int {
        let n = cname.count
        guard n >= 1, n <= 255 else { return 0 }
        // SSRC, type, length, text, then at least one null octet, padded to a multiple of 4.
        let chunk = (4 + 2 + n + 1 + 3) & ~3
        let length = 4 + chunk
        guard out.count >= length else { return 0 }
        writeRTCPHeader(out, count: 1, packetType: RTCPPacketView.sourceDescription, totalLength: length)
        out.writeBE32(ssrc, at: 4)
        out[8] = cnameItem
        out[9] = UInt8(n)
        var i = 0
        while i < n {
            out[10 + i] = cname[i]
            i += 1
        }
        out.zero(from: 10 + n, count: length - 10 - n)
        return length
    }

    /// The first chunk's SSRC and CNAME text of an SDES packet; nil if `packet` is not SDES, has
    /// no chunk, an item runs past the end, or the first chunk has no CNAME.
    public static func firstCname(in packet: RTCPPacketView) -> (ssrc: UInt32, cname: UnsafeRawBufferPointer)? {
        guard packet.packetType == RTCPPacketView.sourceDescription, packet.format >= 1 else { return nil }
        let body = packet.body
        guard body.count >= 4 else { return nil }
        let ssrc = body.readBE32(at: 0)
        var o = 4
        while o < body.count {
            let type = body[o]
            if type == 0 { return nil }  // end of the chunk's items
            guard o + 2 <= body.count else { return nil }
            let length = Int(body[o + 1])
            guard o + 2 + length <= body.count else { return nil }
            if type == cnameItem { return (ssrc, body.slice(o + 2, length)) }
            o += 2 + length
        }
        return nil
    }
}
