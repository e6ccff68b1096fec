import ByteOrder

/// The abs-send-time header extension value (http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time):
/// the send time in seconds as 6.18 fixed point in 24 bits, so it wraps every 64 seconds and has a
/// resolution of about 3.8 µs. Receivers only use differences between packets (send-side
/// timing for the receive-side bandwidth estimator), so the time base is arbitrary.
public enum AbsSendTime {
    /// The 24-bit value for `microsecondsSinceStart`; the whole seconds wrap modulo 64.
    /// Computed from seconds and the fraction separately so no intermediate overflows.
    public static func value(microsecondsSinceStart: UInt64) -> UInt32 {
        let seconds = microsecondsSinceStart / 1_000_000
        let fraction = microsecondsSinceStart % 1_000_000
        let value = (seconds & 0x3F) << 18 | (fraction << 18) / 1_000_000
        return UInt32(truncatingIfNeeded: value)
    }

    /// Reads the 3-byte element value; nil if the element is shorter than 3 bytes.
    public static func parse(_ element: UnsafeRawBufferPointer) -> UInt32? {
        guard element.count >= 3 else { return nil }
        return element.readBE24(at: 0)
    }

    /// Microseconds (within the 64 s wrap period) a 24-bit value stands for, rounded down.
    public static func microseconds(value: UInt32) -> UInt64 {
        (UInt64(value & 0xFF_FFFF) * 1_000_000) >> 18
    }
}
