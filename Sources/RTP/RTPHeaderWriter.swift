import ByteOrder

/// Writes a fresh RTP header (RFC 3550 §5.1, version 2, no padding, no CSRCs) with an optional
/// header extension block in the RFC 8285 §4.2 one-byte form, for packets the SFU originates
/// (probing, padding, RTX) or re-headers. The caller copies the payload after the returned length.
///
/// Extension elements are passed as (id, value) with id 0 meaning "omit", so no array is needed.
/// One-byte ids are 1-14 (RFC 8285 §4.2): an element with an id above 14 is omitted too, as is a
/// `mid` whose value is empty or longer than 16 bytes (the one-byte form's limit). Elements are
/// written in parameter order and the block is zero-padded to a 32-bit boundary (RFC 8285 §4.2:
/// padding bytes are 0).
public enum RTPHeaderWriter {
    /// Returns the header length, or 0 if `out` is too small for it.
    public static func write(into out: UnsafeMutableRawBufferPointer, marker: Bool, payloadType: UInt8,
                             sequenceNumber: UInt16, timestamp: UInt32, ssrc: UInt32,
                             absSendTime: (id: UInt8, value: UInt32),
                             audioLevel: (id: UInt8, value: UInt8),
                             transportSequence: (id: UInt8, value: UInt16),
                             mid: (id: UInt8, value: UnsafeRawBufferPointer?)) -> Int {
        let writeAbs = isUsable(absSendTime.id)
        let writeLevel = isUsable(audioLevel.id)
        let writeTransport = isUsable(transportSequence.id)
        var midCount = 0
        if isUsable(mid.id), let value = mid.value, value.count >= 1, value.count <= 16 { midCount = value.count }

        var elementBytes = 0
        if writeAbs { elementBytes += 4 }
        if writeLevel { elementBytes += 2 }
        if writeTransport { elementBytes += 3 }
        if midCount > 0 { elementBytes += 1 + midCount }
        let paddedElements = (elementBytes + 3) & ~3
        let length = RTPPacketView.fixedHeaderLength + (elementBytes > 0 ? 4 + paddedElements : 0)
        guard out.count >= length else { return 0 }

        out[0] = 0x80 | (elementBytes > 0 ? 0x10 : 0)
        out[1] = (marker ? 0x80 : 0) | (payloadType & 0x7F)
        out.writeBE16(sequenceNumber, at: 2)
        out.writeBE32(timestamp, at: 4)
        out.writeBE32(ssrc, at: 8)
        guard elementBytes > 0 else { return length }

        out.writeBE16(RTPPacketView.oneByteProfile, at: 12)
        out.writeBE16(UInt16(paddedElements / 4), at: 14)
        var i = 16
        if writeAbs {
            out[i] = absSendTime.id << 4 | 2
            out.writeBE24(absSendTime.value & 0xFF_FFFF, at: i + 1)
            i += 4
        }
        if writeLevel {
            out[i] = audioLevel.id << 4
            out[i + 1] = audioLevel.value
            i += 2
        }
        if writeTransport {
            out[i] = transportSequence.id << 4 | 1
            out.writeBE16(transportSequence.value, at: i + 1)
            i += 3
        }
        if midCount > 0, let value = mid.value {
            out[i] = mid.id << 4 | UInt8(midCount - 1)
            var k = 0
            while k < midCount {
                out[i + 1 + k] = value[k]
                k += 1
            }
            i += 1 + midCount
        }
        out.zero(from: i, count: length - i)
        return length
    }

    @inline(__always)
    private static func isUsable(_ id: UInt8) -> Bool { id >= 1 && id <= 14 }
}
