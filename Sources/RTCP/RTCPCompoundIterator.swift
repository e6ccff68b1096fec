import ByteOrder

/// One RTCP packet inside a datagram (RFC 3550 §6.4): the common header
/// `V=2|P|count or FMT(5)|PT(8)|length(16)`, where length is the packet's size in 32-bit words
/// minus one. A view borrows the datagram's buffer.
public struct RTCPPacketView {
    /// 200 SR, 201 RR, 202 SDES, 203 BYE, 204 APP, 205 RTPFB, 206 PSFB.
    public var packetType: UInt8
    /// The 5-bit field after P: the report/source count for SR, RR, SDES and BYE; FMT for
    /// feedback packets (RFC 4585 §6.1).
    public var format: UInt8
    /// The whole packet, common header and any padding included.
    public var bytes: UnsafeRawBufferPointer
    /// Padding at the end (P bit, RFC 3550 §6.4.1), including the count octet; 0 when P is clear.
    public var paddingLength: Int

    public static let senderReport: UInt8 = 200
    public static let receiverReport: UInt8 = 201
    public static let sourceDescription: UInt8 = 202
    public static let goodbye: UInt8 = 203
    public static let transportFeedback: UInt8 = 205
    public static let payloadFeedback: UInt8 = 206

    /// Parses the first packet of `bytes`; nil if its header is malformed: shorter than 4 bytes,
    /// version not 2, a length past the end, or a padding count of 0 or past the header.
    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 4, bytes[0] >> 6 == 2 else { return nil }
        let length = (Int(bytes.readBE16(at: 2)) + 1) * 4
        guard length <= bytes.count else { return nil }
        var padding = 0
        if bytes[0] & 0x20 != 0 {
            padding = Int(bytes[length - 1])
            guard padding >= 1, padding <= length - 4 else { return nil }
        }
        self.packetType = bytes[1]
        self.format = bytes[0] & 0x1F
        self.bytes = bytes.slice(0, length)
        self.paddingLength = padding
    }

    /// The bytes after the 4-byte common header, padding excluded.
    public var body: UnsafeRawBufferPointer { bytes.slice(4, bytes.count - 4 - paddingLength) }
}

/// Iterates the packets of a compound (RFC 3550 §6.1) or reduced-size (RFC 5506) RTCP datagram
/// without allocation. Iteration stops at the first malformed packet header (the rest of the
/// datagram cannot be delimited reliably); `isMalformed` then tells the caller to count the drop.
/// The rule that a compound packet starts with SR or RR is not enforced: RFC 5506 lifts it.
public struct RTCPCompoundIterator: IteratorProtocol, Sequence {
    private let bytes: UnsafeRawBufferPointer
    private var offset = 0
    /// True once a malformed packet header stopped the iteration before the end of the datagram.
    public private(set) var isMalformed = false

    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    public mutating func next() -> RTCPPacketView? {
        guard offset < bytes.count else { return nil }
        guard let packet = RTCPPacketView(bytes.slice(offset, bytes.count - offset)) else {
            isMalformed = true
            offset = bytes.count
            return nil
        }
        offset += packet.bytes.count
        return packet
    }
}

/// Writes an RTCP common header (RFC 3550 §6.4) for a packet of `totalLength` bytes (a multiple of 4).
@inline(__always)
public func writeRTCPHeader(_ out: UnsafeMutableRawBufferPointer, count: UInt8, packetType: UInt8, totalLength: Int) {
    out[0] = 0x80 | (count & 0x1F)
    out[1] = packetType
    out.writeBE16(UInt16(truncatingIfNeeded: totalLength / 4 - 1), at: 2)
}
