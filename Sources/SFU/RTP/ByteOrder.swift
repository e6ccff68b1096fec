/// Network byte order (big-endian, RFC 3550 §4) reads and writes for the RTP and RTCP codecs.
/// They do not check bounds: every caller checks the offset against the buffer's count first,
/// so hostile lengths are rejected before any read.
extension UnsafeRawBufferPointer {
    @inline(__always)
    func readBE16(at offset: Int) -> UInt16 {
        UInt16(self[offset]) << 8 | UInt16(self[offset + 1])
    }

    @inline(__always)
    func readBE24(at offset: Int) -> UInt32 {
        UInt32(self[offset]) << 16 | UInt32(self[offset + 1]) << 8 | UInt32(self[offset + 2])
    }

    @inline(__always)
    func readBE32(at offset: Int) -> UInt32 {
        UInt32(self[offset]) << 24 | UInt32(self[offset + 1]) << 16
            | UInt32(self[offset + 2]) << 8 | UInt32(self[offset + 3])
    }

    @inline(__always)
    func readBE64(at offset: Int) -> UInt64 {
        UInt64(readBE32(at: offset)) << 32 | UInt64(readBE32(at: offset + 4))
    }

    /// The bytes `range` of this buffer as a buffer of their own (no copy).
    @inline(__always)
    func slice(_ start: Int, _ count: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: self[start..<(start + count)])
    }
}

extension UnsafeMutableRawBufferPointer {
    @inline(__always)
    func writeBE16(_ value: UInt16, at offset: Int) {
        self[offset] = UInt8(truncatingIfNeeded: value >> 8)
        self[offset + 1] = UInt8(truncatingIfNeeded: value)
    }

    @inline(__always)
    func writeBE24(_ value: UInt32, at offset: Int) {
        self[offset] = UInt8(truncatingIfNeeded: value >> 16)
        self[offset + 1] = UInt8(truncatingIfNeeded: value >> 8)
        self[offset + 2] = UInt8(truncatingIfNeeded: value)
    }

    @inline(__always)
    func writeBE32(_ value: UInt32, at offset: Int) {
        self[offset] = UInt8(truncatingIfNeeded: value >> 24)
        self[offset + 1] = UInt8(truncatingIfNeeded: value >> 16)
        self[offset + 2] = UInt8(truncatingIfNeeded: value >> 8)
        self[offset + 3] = UInt8(truncatingIfNeeded: value)
    }

    @inline(__always)
    func writeBE64(_ value: UInt64, at offset: Int) {
        writeBE32(UInt32(truncatingIfNeeded: value >> 32), at: offset)
        writeBE32(UInt32(truncatingIfNeeded: value), at: offset + 4)
    }

    /// Sets `count` bytes from `offset` to zero.
    @inline(__always)
    func zero(from offset: Int, count: Int) {
        var i = offset
        while i < offset + count {
            self[i] = 0
            i += 1
        }
    }
}
