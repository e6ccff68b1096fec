import ByteOrder

/// RTP retransmission payload format (RFC 4588 §4): an RTX packet's payload starts with the
/// 2-byte original sequence number (OSN) of the packet it repairs, followed by that packet's payload.
public enum RTXPacket {
    /// The OSN, or nil if the payload is shorter than 2 bytes (RFC 4588 §4: such a packet is
    /// padding only, sent for bandwidth probing).
    public static func originalSequenceNumber(payload: UnsafeRawBufferPointer) -> UInt16? {
        guard payload.count >= 2 else { return nil }
        return payload.readBE16(at: 0)
    }

    /// The original payload after the OSN, or nil if the payload is shorter than 2 bytes.
    public static func originalPayload(payload: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard payload.count >= 2 else { return nil }
        return payload.slice(2, payload.count - 2)
    }
}
