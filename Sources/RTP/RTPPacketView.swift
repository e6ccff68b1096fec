import ByteOrder

/// A parsed, non-owning view of one RTP packet held in caller memory (RFC 3550 §5.1). Valid only
/// while the buffer is: the SFU parses each received packet in its receive buffer and rewrites
/// header fields in place, so the view copies nothing and allocates nothing.
///
/// Validation (hostile input gives `nil`, never a trap):
/// - at least the 12-byte fixed header, version 2;
/// - the CSRC list (CC × 4 bytes) inside the packet;
/// - when X is set, the 4-byte extension header and its `length` 32-bit words inside the packet
///   (RFC 3550 §5.3.1);
/// - when P is set, a last octet (the padding count, which counts itself) between 1 and the bytes
///   left after the header (RFC 3550 §5.1).
public struct RTPPacketView {
    /// The whole packet.
    public let bytes: UnsafeRawBufferPointer
    /// Number of CSRC identifiers (CC, RFC 3550 §5.1).
    public let csrcCount: Int
    /// Offset of the payload: after the fixed header, the CSRCs and the extension.
    public let headerLength: Int
    /// Payload bytes, padding excluded.
    public let payloadLength: Int
    /// Padding bytes at the end, including the count octet itself; 0 when P is clear.
    public let paddingLength: Int
    /// The "defined by profile" field of the header extension (0xBEDE for the RFC 8285 one-byte
    /// form, 0x100X for the two-byte form), or nil when X is clear.
    public let extensionProfile: UInt16?
    /// Offset of the extension elements (after the 4-byte extension header); meaningful only with a profile.
    public let extensionOffset: Int
    /// Length in bytes of the extension elements.
    public let extensionLength: Int

    /// Size of the fixed RTP header (RFC 3550 §5.1).
    public static let fixedHeaderLength = 12
    /// The RFC 8285 §4.2 one-byte header form's profile value.
    public static let oneByteProfile: UInt16 = 0xBEDE

    /// Parses `bytes`; nil if they are not a valid RTP packet (see the type's documentation).
    public init?(_ bytes: UnsafeRawBufferPointer) {
        let count = bytes.count
        guard count >= Self.fixedHeaderLength else { return nil }
        let b0 = bytes[0]
        guard b0 >> 6 == 2 else { return nil }
        let cc = Int(b0 & 0x0F)
        var offset = Self.fixedHeaderLength + 4 * cc
        guard offset <= count else { return nil }
        var profile: UInt16?
        var extOffset = offset
        var extLength = 0
        if b0 & 0x10 != 0 {
            guard offset + 4 <= count else { return nil }
            profile = bytes.readBE16(at: offset)
            extLength = Int(bytes.readBE16(at: offset + 2)) * 4
            extOffset = offset + 4
            guard extOffset + extLength <= count else { return nil }
            offset = extOffset + extLength
        }
        var padding = 0
        if b0 & 0x20 != 0 {
            guard count > offset else { return nil }
            padding = Int(bytes[count - 1])
            guard padding >= 1, padding <= count - offset else { return nil }
        }
        self.bytes = bytes
        self.csrcCount = cc
        self.headerLength = offset
        self.paddingLength = padding
        self.payloadLength = count - offset - padding
        self.extensionProfile = profile
        self.extensionOffset = extOffset
        self.extensionLength = extLength
    }

    /// M bit (RFC 3550 §5.1): for video, the last packet of a frame.
    public var marker: Bool { bytes[1] & 0x80 != 0 }
    public var payloadType: UInt8 { bytes[1] & 0x7F }
    public var sequenceNumber: UInt16 { bytes.readBE16(at: 2) }
    public var timestamp: UInt32 { bytes.readBE32(at: 4) }
    public var ssrc: UInt32 { bytes.readBE32(at: 8) }
    public var hasPadding: Bool { paddingLength > 0 }

    /// The `index`th CSRC (0-based), nil when out of range.
    public func csrc(at index: Int) -> UInt32? {
        guard index >= 0, index < csrcCount else { return nil }
        return bytes.readBE32(at: Self.fixedHeaderLength + 4 * index)
    }

    /// The payload, padding excluded.
    public var payload: UnsafeRawBufferPointer { bytes.slice(headerLength, payloadLength) }

    /// The value of the header extension element with local identifier `id`, nil if absent or
    /// the extension block is malformed before it. RFC 8285 §4.2 (one-byte form, ids 1-14, a 0
    /// byte is padding, id 15 stops processing) and §4.3 (two-byte form, ids 1-255, 0 is padding).
    public func extensionElement(id: UInt8) -> UnsafeRawBufferPointer? {
        guard let range = extensionElementRange(id: id) else { return nil }
        return bytes.slice(range.lowerBound, range.count)
    }

    /// Where the value of extension element `id` lies in `bytes`, so the SFU can rewrite it in place
    /// (for example a transport-wide sequence number for the subscriber's transport).
    public func extensionElementRange(id: UInt8) -> Range<Int>? {
        guard let profile = extensionProfile, id != 0 else { return nil }
        let end = extensionOffset + extensionLength
        var i = extensionOffset
        if profile == Self.oneByteProfile {
            guard id < 15 else { return nil }
            while i < end {
                let b = bytes[i]
                if b == 0 { i += 1; continue }  // padding
                let elementID = b >> 4
                if elementID == 15 { return nil }  // RFC 8285 §4.2: stop processing
                let length = Int(b & 0x0F) + 1
                guard i + 1 + length <= end else { return nil }
                if elementID == id { return (i + 1)..<(i + 1 + length) }
                i += 1 + length
            }
            return nil
        }
        if profile & 0xFFF0 == 0x1000 {
            while i < end {
                let elementID = bytes[i]
                if elementID == 0 { i += 1; continue }  // padding
                guard i + 2 <= end else { return nil }
                let length = Int(bytes[i + 1])
                guard i + 2 + length <= end else { return nil }
                if elementID == id { return (i + 2)..<(i + 2 + length) }
                i += 2 + length
            }
            return nil
        }
        return nil
    }

    // MARK: in-place rewriting (the SFU's per-subscriber header changes)

    /// Overwrites the header fields an SFU changes per subscriber (RFC 7667 §3.7: a switching
    /// middlebox rewrites SSRC, payload type, sequence number and timestamp). `packet` must hold a
    /// packet that parsed as an `RTPPacketView` (at least the 12-byte fixed header); the marker
    /// bit is kept. Returns false, changing nothing, when the buffer is shorter than 12 bytes.
    @discardableResult
    public static func rewrite(_ packet: UnsafeMutableRawBufferPointer, payloadType: UInt8,
                               sequenceNumber: UInt16, timestamp: UInt32, ssrc: UInt32) -> Bool {
        guard packet.count >= fixedHeaderLength else { return false }
        packet[1] = (packet[1] & 0x80) | (payloadType & 0x7F)
        packet.writeBE16(sequenceNumber, at: 2)
        packet.writeBE32(timestamp, at: 4)
        packet.writeBE32(ssrc, at: 8)
        return true
    }
}
