/// What a datagram on the shared media port is, by its first byte (RFC 7983 §7, with the RTCP
/// packet types of RFC 5761 §4 to tell RTCP from RTP).
public enum MediaPacketKind: UInt8, Sendable, Hashable {
    /// 0-3: STUN, for the ICE agent.
    case stun
    /// 20-63: DTLS records, for the transport's DTLS endpoint.
    case dtls
    /// 128-191 with second byte 192-223 (RTCP packet types 192-223, RFC 5761 §4).
    case rtcp
    /// 128-191 otherwise: RTP.
    case rtp
    /// Anything else (ZRTP 16-19, TURN channels 64-79, empty): dropped.
    case unknown
}

/// RFC 7983 demultiplexing. A pure function of the first two bytes: no state, no allocation.
public enum PacketDemux {
    @inline(__always)
    public static func classify(_ packet: UnsafeRawBufferPointer) -> MediaPacketKind {
        guard let first = packet.first else { return .unknown }
        switch first {
        case 0...3: return .stun
        case 20...63: return .dtls
        case 128...191:
            guard packet.count >= 2 else { return .unknown }
            return (192...223).contains(packet[1]) ? .rtcp : .rtp
        default: return .unknown
        }
    }
}
