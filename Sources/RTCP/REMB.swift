import ByteOrder

/// Receiver Estimated Maximum Bitrate (draft-alvestrand-rmcat-remb-03 §2.2): PSFB (PT=206) with
/// FMT=15 (application layer feedback), media SSRC 0, then
/// `'R' 'E' 'M' 'B' | Num SSRC (8) | BR Exp (6) | BR Mantissa (18) | SSRC feedback ...`.
/// The bitrate in bits per second is mantissa × 2^exp. The SFU sends it to publishers to cap
/// what they send (the sum its subscribers can take).
public struct REMB {
    public var senderSSRC: UInt32
    /// Bits per second; values too large for 64 bits read as `UInt64.max`.
    public var bitrate: UInt64
    /// Number of SSRCs the estimate applies to.
    public var ssrcCount: Int
    private var ssrcs: UnsafeRawBufferPointer

    public static let format: UInt8 = 15
    public static let identifier: UInt32 = 0x5245_4D42  // "REMB"

    /// Parses a REMB; nil if `packet` is not PSFB FMT 15 with the "REMB" identifier, or its SSRC
    /// list does not fit.
    public init?(parsing packet: RTCPPacketView) {
        guard packet.packetType == RTCPPacketView.payloadFeedback, packet.format == Self.format else { return nil }
        let body = packet.body
        guard body.count >= 16, body.readBE32(at: 8) == Self.identifier else { return nil }
        let n = Int(body[12])
        guard body.count >= 16 + 4 * n else { return nil }
        senderSSRC = body.readBE32(at: 0)
        let exponent = UInt64(body[13] >> 2)
        let mantissa = UInt64(body.readBE24(at: 13) & 0x3_FFFF)
        bitrate = Self.bitrate(mantissa: mantissa, exponent: exponent)
        ssrcCount = n
        ssrcs = body.slice(16, 4 * n)
    }

    /// The `index`th SSRC of the feedback list, nil when out of range.
    public func ssrc(at index: Int) -> UInt32? {
        guard index >= 0, index < ssrcCount else { return nil }
        return ssrcs.readBE32(at: 4 * index)
    }

    /// mantissa × 2^exponent, clamped to `UInt64.max` when it would overflow.
    public static func bitrate(mantissa: UInt64, exponent: UInt64) -> UInt64 {
        guard mantissa != 0 else { return 0 }
        guard exponent < 64, mantissa.leadingZeroBitCount >= Int(exponent) else { return .max }
        return mantissa << exponent
    }

    /// Splits `bitrate` into an 18-bit mantissa and a 6-bit exponent with the smallest exponent
    /// that fits, rounding down (the receiver must not be told it may send more than estimated).
    public static func encode(bitrate: UInt64) -> (mantissa: UInt32, exponent: UInt8) {
        var exponent: UInt8 = 0
        var mantissa = bitrate
        while mantissa > 0x3_FFFF {
            mantissa >>= 1
            exponent += 1
        }
        return (UInt32(mantissa), exponent)
    }

    /// Writes a REMB for `bitrate` covering `ssrcs` (at most 255, the rest are left out); returns
    /// its length, or 0 if `out` is too small.
    public static func write(into out: UnsafeMutableRawBufferPointer, senderSSRC: UInt32, bitrate: UInt64,
                             ssrcs: UnsafeBufferPointer<UInt32>) -> Int {
        let n = min(ssrcs.count, 255)
        let length = 20 + 4 * n
        guard out.count >= length else { return 0 }
        writeRTCPHeader(out, count: format, packetType: RTCPPacketView.payloadFeedback, totalLength: length)
        out.writeBE32(senderSSRC, at: 4)
        out.writeBE32(0, at: 8)
        out.writeBE32(identifier, at: 12)
        out[16] = UInt8(n)
        let (mantissa, exponent) = encode(bitrate: bitrate)
        out.writeBE24(UInt32(exponent) << 18 | mantissa, at: 17)
        var i = 0
        while i < n {
            out.writeBE32(ssrcs[i], at: 20 + 4 * i)
            i += 1
        }
        return length
    }
}
