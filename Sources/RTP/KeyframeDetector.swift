import ByteOrder

/// Tells whether an RTP payload carries the start of a keyframe, so the SFU can switch a
/// subscriber's simulcast layer or answer a new subscriber without waiting. Only the first packet
/// of a frame needs to say so; every function returns false when unsure (truncated, unknown form).
public enum KeyframeDetector {
    /// VP8 (RFC 7741 §4.2, §4.3): the packet starts partition 0 (S=1, PID=0) and the first byte of
    /// the VP8 payload header has P (inverse key frame flag, its lowest bit) equal to 0.
    public static func vp8(_ payload: UnsafeRawBufferPointer) -> Bool {
        VP8Descriptor(payload)?.beginsKeyframe(in: payload) ?? false
    }

    /// VP9 (RFC 9628 §4.2): first byte `I|P|L|F|B|E|V|Z`. A keyframe packet begins a frame (B=1),
    /// is not inter-picture predicted (P=0), and, when layer indices are present (L=1), belongs to
    /// spatial layer 0 (SID in `TID|U|SID|D`). The descriptor is bound checked up to the layer byte.
    public static func vp9(_ payload: UnsafeRawBufferPointer) -> Bool {
        let count = payload.count
        guard count >= 1 else { return false }
        let b0 = payload[0]
        guard b0 & 0x40 == 0, b0 & 0x08 != 0 else { return false }  // P=0, B=1
        var o = 1
        if b0 & 0x80 != 0 {  // I: picture id, M selects 7 or 15 bits
            guard o < count else { return false }
            o += payload[o] & 0x80 != 0 ? 2 : 1
        }
        if b0 & 0x20 != 0 {  // L: layer indices
            guard o < count else { return false }
            let spatialLayer = (payload[o] >> 1) & 0x07
            guard spatialLayer == 0 else { return false }
            o += 1
        }
        return o < count  // a payload must follow the descriptor
    }

    /// H.264 (RFC 6184 §5.3): the NAL unit type (low 5 bits of the NAL header) is 5 (IDR slice) or
    /// 7 (SPS, sent right before an IDR); for STAP-A (24, §5.7.1) any aggregated unit counts; for
    /// FU-A (28, §5.8) the fragment must start the unit (S bit of the FU header).
    public static func h264(_ payload: UnsafeRawBufferPointer) -> Bool {
        let count = payload.count
        guard count >= 1 else { return false }
        switch payload[0] & 0x1F {
        case 5, 7:
            return true
        case 24:
            var o = 1
            while o + 2 <= count {
                let size = Int(payload.readBE16(at: o))
                o += 2
                guard size > 0, o + size <= count else { return false }
                if isKeyNal(payload[o]) { return true }
                o += size
            }
            return false
        case 28:
            guard count >= 2 else { return false }
            let header = payload[1]
            return header & 0x80 != 0 && isKeyNal(header)
        default:
            return false
        }
    }

    @inline(__always)
    private static func isKeyNal(_ header: UInt8) -> Bool {
        let type = header & 0x1F
        return type == 5 || type == 7
    }
}
