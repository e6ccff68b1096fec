#if canImport(Glibc)
import Glibc
import ByteOrder
#endif

/// The RTP packets a synthetic publisher sends, written in place into one reused buffer
/// (nothing is allocated per packet): the RTP header (RFC 3550 §5.1) with one-byte header
/// extensions (RFC 8285 §4.2), then the payload: an Opus TOC byte, or a VP8 payload
/// descriptor (RFC 7741 §4.2) and, on a frame's first packet, the VP8 payload header (§4.3),
/// then a 16-byte benchmark stamp (magic, stream id, send time) the subscribers read back.
enum SFUBenchPackets {
    static let magic: UInt32 = 0x5042_4E43  // "PBNC"
    static let stampLength = 16
    /// Largest RTP payload a video packet carries (browsers stay near 1100-1200).
    static let maxVideoPayload = 1100
    static let opusPayloadType: UInt8 = 111
    static let vp8PayloadType: UInt8 = 96

    /// Writes the fixed header and the extensions; returns the header length.
    @inline(__always)
    static func writeHeader(_ b: UnsafeMutableRawPointer, marker: Bool, payloadType: UInt8, sequence: UInt16, timestamp: UInt32,
                            ssrc: UInt32, audioLevel: UInt8?, transportSequence: UInt16?) -> Int {
        let hasExtension = audioLevel != nil || transportSequence != nil
        b.storeBytes(of: hasExtension ? 0x90 : 0x80, toByteOffset: 0, as: UInt8.self)
        b.storeBytes(of: (marker ? 0x80 : 0) | payloadType, toByteOffset: 1, as: UInt8.self)
        b.storeBytes(of: sequence.bigEndian, toByteOffset: 2, as: UInt16.self)
        b.storeBytes(of: timestamp.bigEndian, toByteOffset: 4, as: UInt32.self)
        b.storeBytes(of: ssrc.bigEndian, toByteOffset: 8, as: UInt32.self)
        guard hasExtension else { return 12 }
        var o = 16
        if let audioLevel {
            b.storeBytes(of: SFUBenchSDP.audioLevelId << 4, toByteOffset: o, as: UInt8.self)  // L-1 = 0
            b.storeBytes(of: audioLevel, toByteOffset: o + 1, as: UInt8.self)
            o += 2
        }
        if let transportSequence {
            b.storeBytes(of: SFUBenchSDP.transportCCId << 4 | 1, toByteOffset: o, as: UInt8.self)  // L-1 = 1
            b.storeBytes(of: transportSequence.bigEndian, toByteOffset: o + 1, as: UInt16.self)
            o += 3
        }
        while (o - 16) % 4 != 0 {
            b.storeBytes(of: 0, toByteOffset: o, as: UInt8.self)
            o += 1
        }
        b.storeBytes(of: UInt16(0xBEDE).bigEndian, toByteOffset: 12, as: UInt16.self)
        b.storeBytes(of: UInt16((o - 16) / 4).bigEndian, toByteOffset: 14, as: UInt16.self)
        return o
    }

    @inline(__always)
    static func writeStamp(_ b: UnsafeMutableRawPointer, at o: Int, stream: UInt32, sentNanos: UInt64) {
        b.storeBytes(of: magic.bigEndian, toByteOffset: o, as: UInt32.self)
        b.storeBytes(of: stream.bigEndian, toByteOffset: o + 4, as: UInt32.self)
        b.storeBytes(of: sentNanos.bigEndian, toByteOffset: o + 8, as: UInt64.self)
    }

    /// The VP8 payload descriptor: X=1, S on a frame's first packet, PID=0, then I=1 with a
    /// 15-bit PictureID (M=1), as browsers send it.
    @inline(__always)
    static func writeVP8Descriptor(_ b: UnsafeMutableRawPointer, at o: Int, start: Bool, pictureId: UInt16) -> Int {
        b.storeBytes(of: start ? 0x90 : 0x80, toByteOffset: o, as: UInt8.self)
        b.storeBytes(of: 0x80, toByteOffset: o + 1, as: UInt8.self)
        b.storeBytes(of: (0x8000 | (pictureId & 0x7FFF)).bigEndian, toByteOffset: o + 2, as: UInt16.self)
        return o + 4
    }

    /// The VP8 payload header of a frame's first packet (RFC 6386 §9.1): the 3-byte frame tag
    /// (P, the inverse key frame flag, is its lowest bit; show_frame set), and for keyframes
    /// the start code 9d 01 2a and a 640x480 size.
    @inline(__always)
    static func writeVP8Header(_ b: UnsafeMutableRawPointer, at o: Int, keyframe: Bool) -> Int {
        let key: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0xE0, 0x01)
        if keyframe {
            (b + o).storeBytes(of: key, as: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8).self)
            return o + 10
        }
        b.storeBytes(of: 0x11, toByteOffset: o, as: UInt8.self)
        b.storeBytes(of: 0x02, toByteOffset: o + 1, as: UInt8.self)
        b.storeBytes(of: 0x00, toByteOffset: o + 2, as: UInt8.self)
        return o + 3
    }

    /// Where the stamp of a received RTP packet (plaintext) lies: it is searched for in the
    /// first 40 bytes of the payload, after whatever header extensions the SFU wrote.
    static func readStamp(_ packet: UnsafeRawBufferPointer) -> (stream: UInt32, sentNanos: UInt64)? {
        let count = packet.count
        guard count >= 12 else { return nil }
        let b0 = packet[0]
        var o = 12 + Int(b0 & 0x0F) * 4
        if b0 & 0x10 != 0 {
            guard o + 4 <= count else { return nil }
            o += 4 + (Int(packet[o + 2]) << 8 | Int(packet[o + 3])) * 4
        }
        let limit = min(count - stampLength, o + 40)
        guard o <= limit else { return nil }
        for start in o...limit where readBE32(packet, start) == magic {
            let stream = readBE32(packet, start + 4)
            let sent = UInt64(readBE32(packet, start + 8)) << 32 | UInt64(readBE32(packet, start + 12))
            return (stream, sent)
        }
        return nil
    }

    @inline(__always)
    static func readBE32(_ p: UnsafeRawBufferPointer, _ o: Int) -> UInt32 {
        UInt32(p[o]) << 24 | UInt32(p[o + 1]) << 16 | UInt32(p[o + 2]) << 8 | UInt32(p[o + 3])
    }

    /// Whether a compound SRTCP packet (decrypted) holds a PLI (PT 206 FMT 1, RFC 4585
    /// §6.3.1) or a FIR (PT 206 FMT 4, RFC 5104 §4.3.1).
    static func hasKeyframeRequest(_ packet: UnsafeRawBufferPointer) -> Bool {
        var o = 0
        while o + 4 <= packet.count {
            let fmt = packet[o] & 0x1F
            if packet[o + 1] == 206, fmt == 1 || fmt == 4 { return true }
            o += 4 + (Int(packet[o + 2]) << 8 | Int(packet[o + 3])) * 4
        }
        return false
    }
}

/// Clocks of the benchmark process. Send stamps use CLOCK_REALTIME because the kernel's
/// receive timestamps (SIOCGSTAMPNS) do; schedules use CLOCK_MONOTONIC.
enum SFUBenchClock {
    @inline(__always)
    static func monotonic() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
    }

    @inline(__always)
    static func realtime() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
    }
}
