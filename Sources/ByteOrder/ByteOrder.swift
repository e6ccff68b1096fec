/// Network byte order (big-endian: RFC 791 Appendix B, RFC 3550 §4, RFC 8489 §5) reads and
/// writes, the one set the STUN, RTP and RTCP codecs share. They do not check bounds: every
/// caller checks the offset against the buffer's count first, so hostile lengths are rejected
/// before any read. Inlinable, so a read in another module costs what it did in its own.
extension UnsafeRawBufferPointer {
    @inlinable @inline(__always)
    public func readBE16(at offset: Int) -> UInt16 {
        UInt16(self[offset]) << 8 | UInt16(self[offset + 1])
    }

    @inlinable @inline(__always)
    public func readBE24(at offset: Int) -> UInt32 {
        UInt32(self[offset]) << 16 | UInt32(self[offset + 1]) << 8 | UInt32(self[offset + 2])
    }

    @inlinable @inline(__always)
    public func readBE32(at offset: Int) -> UInt32 {
        UInt32(self[offset]) << 24 | UInt32(self[offset + 1]) << 16
            | UInt32(self[offset + 2]) << 8 | UInt32(self[offset + 3])
    }

    @inlinable @inline(__always)
    public func readBE64(at offset: Int) -> UInt64 {
        UInt64(readBE32(at: offset)) << 32 | UInt64(readBE32(at: offset + 4))
    }

    /// The bytes `range` of this buffer as a buffer of their own (no copy).
    @inlinable @inline(__always)
    public func slice(_ start: Int, _ count: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: self[start..<(start + count)])
    }
}

extension UnsafeMutableRawBufferPointer {
    @inlinable @inline(__always)
    public func writeBE16(_ value: UInt16, at offset: Int) {
        self[offset] = UInt8(truncatingIfNeeded: value >> 8)
        self[offset + 1] = UInt8(truncatingIfNeeded: value)
    }

    @inlinable @inline(__always)
    public func writeBE24(_ value: UInt32, at offset: Int) {
        self[offset] = UInt8(truncatingIfNeeded: value >> 16)
        self[offset + 1] = UInt8(truncatingIfNeeded: value >> 8)
        self[offset + 2] = UInt8(truncatingIfNeeded: value)
    }

    @inlinable @inline(__always)
    public func writeBE32(_ value: UInt32, at offset: Int) {
        self[offset] = UInt8(truncatingIfNeeded: value >> 24)
        self[offset + 1] = UInt8(truncatingIfNeeded: value >> 16)
        self[offset + 2] = UInt8(truncatingIfNeeded: value >> 8)
        self[offset + 3] = UInt8(truncatingIfNeeded: value)
    }

    @inlinable @inline(__always)
    public func writeBE64(_ value: UInt64, at offset: Int) {
        writeBE32(UInt32(truncatingIfNeeded: value >> 32), at: offset)
        writeBE32(UInt32(truncatingIfNeeded: value), at: offset + 4)
    }

    /// Sets `count` bytes from `offset` to zero.
    @inlinable @inline(__always)
    public func zero(from offset: Int, count: Int) {
        var i = offset
        while i < offset + count {
            self[i] = 0
            i += 1
        }
    }
}

/// Appending and patching big-endian integers in a growing message (the STUN encoder's).
extension Array where Element == UInt8 {
    @inlinable @inline(__always)
    public mutating func appendBE16(_ value: UInt16) {
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }

    @inlinable @inline(__always)
    public mutating func appendBE32(_ value: UInt32) {
        appendBE16(UInt16(truncatingIfNeeded: value >> 16))
        appendBE16(UInt16(truncatingIfNeeded: value))
    }

    @inlinable @inline(__always)
    public mutating func appendBE64(_ value: UInt64) {
        appendBE32(UInt32(truncatingIfNeeded: value >> 32))
        appendBE32(UInt32(truncatingIfNeeded: value))
    }

    @inlinable @inline(__always)
    public mutating func setBE16(_ value: UInt16, at offset: Int) {
        self[offset] = UInt8(truncatingIfNeeded: value >> 8)
        self[offset + 1] = UInt8(truncatingIfNeeded: value)
    }

    @inlinable @inline(__always)
    public mutating func setBE32(_ value: UInt32, at offset: Int) {
        setBE16(UInt16(truncatingIfNeeded: value >> 16), at: offset)
        setBE16(UInt16(truncatingIfNeeded: value), at: offset + 2)
    }
}
