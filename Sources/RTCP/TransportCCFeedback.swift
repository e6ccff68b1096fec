import ByteOrder

/// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01
/// §3.1): RTPFB (PT=205) with FMT=15,
///
/// ```
/// header | SSRC of packet sender | SSRC of media source
/// base sequence number (16) | packet status count (16)
/// reference time (24, signed, 64 ms units) | fb pkt. count (8)
/// packet chunks (16 bits each) ... | recv deltas ... | zero padding
/// ```
/// Chunks (§3.1.3, §3.1.4): a run length chunk `0|S(2)|run length(13)`, or a status vector chunk
/// `1|S|symbols` holding 14 one-bit symbols (S=0: 0 not received, 1 received) or 7 two-bit symbols
/// (S=1). Symbols: 0 not received, 1 received with a small delta (1 byte, 0-63.75 ms), 2 received
/// with a large or negative delta (2 bytes, signed), 3 reserved. Deltas (§3.1.5) are in 250 µs
/// units; the first is relative to the reference time, each next one to the previous received packet.
///
/// Parsed by the tests and by the benchmark's synthetic peers to check what Parley sends.
/// `init` validates the whole packet once, so `forEachPacket` cannot run past the end.
public struct TransportCCFeedback {
    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32
    public var baseSequence: UInt16
    public var packetStatusCount: Int
    /// The 24-bit signed reference time, in 64 ms units.
    public var referenceTime: Int32
    /// The 8-bit feedback packet counter.
    public var feedbackCount: UInt8
    private var body: UnsafeRawBufferPointer
    /// Offset of the first receive delta in `body`.
    private var deltasOffset: Int

    public static let format: UInt8 = 15
    public static let chunksOffset = 16

    /// The reference time in microseconds (time base chosen by the sender of the feedback).
    public var referenceTimeMicroseconds: Int64 { Int64(referenceTime) * 64_000 }

    /// Parses a transport-cc feedback packet; nil if `packet` is not RTPFB FMT 15, a chunk uses
    /// the reserved symbol, or chunks or deltas run past the end.
    public init?(parsing packet: RTCPPacketView) {
        guard packet.packetType == RTCPPacketView.transportFeedback, packet.format == Self.format else { return nil }
        let body = packet.body
        guard body.count >= Self.chunksOffset else { return nil }
        senderSSRC = body.readBE32(at: 0)
        mediaSSRC = body.readBE32(at: 4)
        baseSequence = body.readBE16(at: 8)
        packetStatusCount = Int(body.readBE16(at: 10))
        let rawReference = body.readBE24(at: 12)
        referenceTime = rawReference & 0x80_0000 != 0 ? Int32(rawReference) - 0x100_0000 : Int32(rawReference)
        feedbackCount = body[15]
        self.body = body
        self.deltasOffset = 0

        // Walk the chunks, adding up the receive delta sizes.
        var offset = Self.chunksOffset
        var described = 0
        var deltaBytes = 0
        var valid = true
        while described < packetStatusCount {
            guard offset + 2 <= body.count else { return nil }
            let chunk = body.readBE16(at: offset)
            offset += 2
            Self.forEachSymbol(chunk, limit: packetStatusCount - described) { symbol in
                switch symbol {
                case 1: deltaBytes += 1
                case 2: deltaBytes += 2
                case 3: valid = false
                default: break
                }
                described += 1
            }
            guard valid else { return nil }
        }
        guard offset + deltaBytes <= body.count else { return nil }
        deltasOffset = offset
    }

    /// Calls `body` with each packet's transport-wide sequence number and its arrival time in
    /// microseconds relative to the reference time, or nil if the packet was not received.
    public func forEachPacket(_ body: (UInt16, Int64?) -> Void) {
        var chunkOffset = Self.chunksOffset
        var deltaOffset = deltasOffset
        var described = 0
        var sequence = baseSequence
        var time: Int64 = 0
        let bytes = self.body
        while described < packetStatusCount {
            let chunk = bytes.readBE16(at: chunkOffset)
            chunkOffset += 2
            Self.forEachSymbol(chunk, limit: packetStatusCount - described) { symbol in
                switch symbol {
                case 1:
                    time += Int64(bytes[deltaOffset]) * 250
                    deltaOffset += 1
                    body(sequence, time)
                case 2:
                    time += Int64(Int16(bitPattern: bytes.readBE16(at: deltaOffset))) * 250
                    deltaOffset += 2
                    body(sequence, time)
                default:
                    body(sequence, nil)
                }
                sequence &+= 1
                described += 1
            }
        }
    }

    /// Calls `body` with the symbols one chunk describes, at most `limit` of them (the last vector
    /// chunk may hold unused symbols after the packet status count).
    @inline(__always)
    public static func forEachSymbol(_ chunk: UInt16, limit: Int, _ body: (UInt8) -> Void) {
        if chunk & 0x8000 == 0 {
            let symbol = UInt8((chunk >> 13) & 0x3)
            let run = min(Int(chunk & 0x1FFF), limit)
            var i = 0
            while i < run {
                body(symbol)
                i += 1
            }
        } else if chunk & 0x4000 == 0 {
            let n = min(14, limit)
            var i = 0
            while i < n {
                body(UInt8((chunk >> (13 - UInt16(i))) & 0x1))
                i += 1
            }
        } else {
            let n = min(7, limit)
            var i = 0
            while i < n {
                body(UInt8((chunk >> (12 - 2 * UInt16(i))) & 0x3))
                i += 1
            }
        }
    }
}
