/// Why a STUN message was refused. Every parser failure is one of these: hostile input gets a
/// clear error, never a crash (docs/architecture.md, "Budgets and bounds").
public enum STUNError: Error, Equatable, Sendable {
    /// Fewer than the 20 header bytes, or fewer bytes than the header's length field says.
    case truncated
    /// The two most significant bits of the first byte are not zero (RFC 8489 §5).
    case notSTUN
    /// The magic cookie is not 0x2112A442 (RFC 8489 §5); RFC 3489 messages are not supported.
    case badMagicCookie
    /// The message length is not a multiple of 4 (RFC 8489 §5), or disagrees with the datagram.
    case badLength
    /// An attribute's length runs past the end of the message (RFC 8489 §14).
    case attributeOverrun(type: UInt16)
    /// An attribute's value has the wrong size or content for its type.
    case malformedAttribute(type: UInt16)
    /// FINGERPRINT is present and is not the last attribute, or its CRC does not match (RFC 8489 §14.7).
    case badFingerprint
    /// MESSAGE-INTEGRITY is present but does not match the key (RFC 8489 §14.5).
    case badIntegrity
    /// A value does not fit in the wire format (e.g. an attribute longer than 65535 bytes).
    case valueTooLong
}
