/// Serial number arithmetic for RTP sequence numbers and timestamps (RFC 1982 §3.2, as RFC 3550
/// Appendix A.1 uses it): `a` is newer than `b` when it is ahead by less than half the number space.
/// When they are exactly half apart, RFC 1982 leaves the order undefined; the larger value is taken
/// as newer so the relation stays antisymmetric.
@inline(__always)
public func isNewer(_ a: UInt16, than b: UInt16) -> Bool {
    let diff = a &- b
    if diff == 0x8000 { return a > b }
    return diff != 0 && diff < 0x8000
}

/// 32-bit form of `isNewer(_:than:)` for RTP timestamps (RFC 1982 §3.2).
@inline(__always)
public func isNewer(_ a: UInt32, than b: UInt32) -> Bool {
    let diff = a &- b
    if diff == 0x8000_0000 { return a > b }
    return diff != 0 && diff < 0x8000_0000
}

/// Extends 16-bit RTP sequence numbers to a monotonic 64-bit count (RFC 3550 Appendix A.1 keeps a
/// cycle count for the same purpose). Each value is placed at the distance from the last value
/// that is shortest modulo 2^16, so reordering and wrap-around (65535 -> 0) are both handled.
/// The first value unwraps to itself; a value older than the first can unwrap below zero.
public struct SequenceUnwrapper: Sendable {
    private var last: Int64?

    public init() {}

    public mutating func unwrap(_ s: UInt16) -> Int64 {
        guard let last else {
            self.last = Int64(s)
            return Int64(s)
        }
        let delta = Int64(Int16(bitPattern: s &- UInt16(truncatingIfNeeded: last)))
        let value = last + delta
        self.last = value
        return value
    }
}

/// Same as `SequenceUnwrapper` for 32-bit RTP timestamps.
public struct TimestampUnwrapper: Sendable {
    private var last: Int64?

    public init() {}

    public mutating func unwrap(_ t: UInt32) -> Int64 {
        guard let last else {
            self.last = Int64(t)
            return Int64(t)
        }
        let delta = Int64(Int32(bitPattern: t &- UInt32(truncatingIfNeeded: last)))
        let value = last + delta
        self.last = value
        return value
    }
}
