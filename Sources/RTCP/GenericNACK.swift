import ByteOrder

/// Generic NACK (RFC 4585 §6.2.1): RTPFB (PT=205) with FMT=1; each 4-byte FCI entry is
/// `PID (16) | BLP (16)`: packet PID is lost, and bit i of BLP (least significant first) says
/// packet PID+i+1 is lost too. Subscribers send them; the SFU answers from its packet cache
/// and sends its own NACKs to publishers.
public struct GenericNACK {
    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32
    private var fci: UnsafeRawBufferPointer

    public static let format: UInt8 = 1

    /// Parses a NACK; nil if `packet` is not RTPFB FMT 1 or has no FCI entry. Trailing bytes that
    /// do not make a whole entry are ignored.
    public init?(parsing packet: RTCPPacketView) {
        guard packet.packetType == RTCPPacketView.transportFeedback, packet.format == Self.format else { return nil }
        let body = packet.body
        guard body.count >= 12 else { return nil }
        senderSSRC = body.readBE32(at: 0)
        mediaSSRC = body.readBE32(at: 4)
        fci = body.slice(8, (body.count - 8) & ~3)
    }

    /// Number of PID/BLP entries.
    public var entryCount: Int { fci.count / 4 }

    /// How many sequence numbers the NACK names (duplicates included): one per entry plus its
    /// BLP bits. Counted per entry, so a flood can be accounted for without visiting each number.
    public var lostCount: Int {
        var count = 0
        var offset = 0
        while offset + 4 <= fci.count {
            count += 1 + fci.readBE16(at: offset + 2).nonzeroBitCount
            offset += 4
        }
        return count
    }

    /// Calls `body` with every lost sequence number, entry by entry, in increasing order within
    /// an entry (sequence numbers wrap modulo 2^16).
    public func forEachLostSequence(_ body: (UInt16) -> Void) {
        var offset = 0
        while offset + 4 <= fci.count {
            let pid = fci.readBE16(at: offset)
            let blp = fci.readBE16(at: offset + 2)
            body(pid)
            var bit: UInt16 = 0
            while bit < 16 {
                if blp & (1 << bit) != 0 { body(pid &+ bit &+ 1) }
                bit += 1
            }
            offset += 4
        }
    }

    /// Writes a NACK for `lost`, packing each run of losses within 16 after an entry's PID into
    /// its BLP. `lost` should be in increasing (wrapping) order for the tightest packing; any order
    /// is still correct. Writes as many entries as fit in `out`; returns the packet length, or 0
    /// if `lost` is empty or not even one entry fits (16 bytes).
    public static func write(into out: UnsafeMutableRawBufferPointer, senderSSRC: UInt32, mediaSSRC: UInt32,
                             lost: UnsafeBufferPointer<UInt16>) -> Int {
        guard !lost.isEmpty, out.count >= 16 else { return 0 }
        let maxEntries = min((out.count - 12) / 4, 0xFFFF - 2)
        var entries = 0
        var pid: UInt16 = 0
        var blp: UInt16 = 0
        for seq in lost {
            if entries > 0 {
                let distance = seq &- pid
                if distance == 0 { continue }
                if distance <= 16 {
                    blp |= 1 << (distance - 1)
                    continue
                }
                out.writeBE16(pid, at: 12 + (entries - 1) * 4)
                out.writeBE16(blp, at: 14 + (entries - 1) * 4)
                if entries == maxEntries { break }
            }
            entries += 1
            pid = seq
            blp = 0
        }
        out.writeBE16(pid, at: 12 + (entries - 1) * 4)
        out.writeBE16(blp, at: 14 + (entries - 1) * 4)
        let length = 12 + entries * 4
        writeRTCPHeader(out, count: format, packetType: RTCPPacketView.transportFeedback, totalLength: length)
        out.writeBE32(senderSSRC, at: 4)
        out.writeBE32(mediaSSRC, at: 8)
        return length
    }
}
