import Crypto
import ByteOrder

/// A validated, non-owning view of one STUN message in a receive buffer: the header is decoded
/// and every attribute bound checked once, but nothing is copied, so the ICE agent can answer a
/// check without heap allocation. The view borrows `bytes`: use it only while they are alive.
///
/// Validation follows RFC 8489 §5 and §14: top two bits zero, magic cookie, length a multiple
/// of 4 and equal to the datagram, attributes inside the message, MESSAGE-INTEGRITY of 20
/// bytes, FINGERPRINT of 4 bytes and last. Attributes after MESSAGE-INTEGRITY other than
/// FINGERPRINT are ignored (RFC 8489 §14.5).
public struct STUNMessageView {
    public let bytes: UnsafeRawBufferPointer
    public let type: STUNMessageType
    public let transactionID: STUNTransactionID
    /// Byte offset of the MESSAGE-INTEGRITY attribute header, if present.
    public let integrityOffset: Int?
    /// Byte offset of the FINGERPRINT attribute header, if present.
    public let fingerprintOffset: Int?

    public static let headerSize = 20
    public static let magicCookie: UInt32 = 0x2112_A442

    /// RFC 7983 §7: a first byte of 0-3 means STUN on a multiplexed port.
    @inline(__always)
    public static func mightBeSTUN(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= headerSize && bytes[0] < 4 && bytes.readBE32(at: 4) == magicCookie
    }

    public init(parsing bytes: UnsafeRawBufferPointer) throws(STUNError) {
        guard bytes.count >= Self.headerSize else { throw .truncated }
        guard bytes[0] & 0xC0 == 0 else { throw .notSTUN }
        guard bytes.readBE32(at: 4) == Self.magicCookie else { throw .badMagicCookie }
        let length = Int(bytes.readBE16(at: 2))
        guard length % 4 == 0 else { throw .badLength }
        guard bytes.count >= Self.headerSize + length else { throw .truncated }
        guard bytes.count == Self.headerSize + length else { throw .badLength }
        self.bytes = bytes
        self.type = STUNMessageType(rawValue: bytes.readBE16(at: 0))
        self.transactionID = STUNTransactionID(bytes: UnsafeRawBufferPointer(rebasing: bytes[8..<20]))

        var integrity: Int?
        var fingerprint: Int?
        var offset = Self.headerSize
        while offset < bytes.count {
            guard fingerprint == nil else { throw .badFingerprint }  // FINGERPRINT must be last
            guard offset + 4 <= bytes.count else { throw .truncated }
            let t = bytes.readBE16(at: offset)
            let len = Int(bytes.readBE16(at: offset + 2))
            let padded = (len + 3) & ~3
            guard offset + 4 + padded <= bytes.count else { throw .attributeOverrun(type: t) }
            if t == STUNAttributeType.fingerprint.rawValue {
                guard len == 4 else { throw .malformedAttribute(type: t) }
                fingerprint = offset
            } else if t == STUNAttributeType.messageIntegrity.rawValue, integrity == nil {
                guard len == 20 else { throw .malformedAttribute(type: t) }
                integrity = offset
            }
            offset += 4 + padded
        }
        self.integrityOffset = integrity
        self.fingerprintOffset = fingerprint
    }

    /// Offset where the attributes that count end: MESSAGE-INTEGRITY, else FINGERPRINT, else the end.
    @inline(__always)
    var protectedEnd: Int { integrityOffset ?? fingerprintOffset ?? bytes.count }

    /// Calls `body` with each attribute's type and value that precedes MESSAGE-INTEGRITY and
    /// FINGERPRINT (those two are reached through `integrityOffset`/`fingerprintOffset`).
    @inline(__always)
    public func forEachAttribute(_ body: (UInt16, UnsafeRawBufferPointer) throws(STUNError) -> Void) throws(STUNError) {
        var offset = Self.headerSize
        let end = protectedEnd
        while offset < end {
            let t = bytes.readBE16(at: offset)
            let len = Int(bytes.readBE16(at: offset + 2))
            try body(t, UnsafeRawBufferPointer(rebasing: bytes[(offset + 4)..<(offset + 4 + len)]))
            offset += 4 + ((len + 3) & ~3)
        }
    }

    /// The value of the first attribute of `type` before MESSAGE-INTEGRITY, if any.
    public func value(of type: STUNAttributeType) -> UnsafeRawBufferPointer? {
        var offset = Self.headerSize
        let end = protectedEnd
        while offset < end {
            let t = bytes.readBE16(at: offset)
            let len = Int(bytes.readBE16(at: offset + 2))
            if t == type.rawValue {
                return UnsafeRawBufferPointer(rebasing: bytes[(offset + 4)..<(offset + 4 + len)])
            }
            offset += 4 + ((len + 3) & ~3)
        }
        return nil
    }

    /// Appends every comprehension-required attribute type this agent does not understand
    /// (RFC 8489 §6.3.1.1: they are listed in the 420 response's UNKNOWN-ATTRIBUTES).
    public func unknownComprehensionRequired(into list: inout [UInt16]) {
        var offset = Self.headerSize
        let end = protectedEnd
        while offset < end {
            let t = STUNAttributeType(bytes.readBE16(at: offset))
            if t.isComprehensionRequired && !t.isUnderstood { list.append(t.rawValue) }
            offset += 4 + ((Int(bytes.readBE16(at: offset + 2)) + 3) & ~3)
        }
    }

    /// Whether a comprehension-required attribute we do not understand is present.
    public var hasUnknownComprehensionRequired: Bool {
        var offset = Self.headerSize
        let end = protectedEnd
        while offset < end {
            let t = STUNAttributeType(bytes.readBE16(at: offset))
            if t.isComprehensionRequired && !t.isUnderstood { return true }
            offset += 4 + ((Int(bytes.readBE16(at: offset + 2)) + 3) & ~3)
        }
        return false
    }

    /// True if FINGERPRINT is present and correct (RFC 8489 §14.7).
    public var hasValidFingerprint: Bool {
        guard let fp = fingerprintOffset else { return false }
        return bytes.readBE32(at: fp + 4) == STUNIntegrity.fingerprint(message: bytes, fingerprintOffset: fp)
    }

    /// True if MESSAGE-INTEGRITY is present and matches `key` (RFC 8489 §14.5); compared in
    /// constant time. `scratch` is a reused buffer for the length-patched copy.
    public func hasValidIntegrity(key: STUNIntegrityKey, scratch: inout [UInt8]) -> Bool {
        guard let mi = integrityOffset else { return false }
        let mac = STUNIntegrity.mac(key: key, message: bytes, integrityOffset: mi, scratch: &scratch)
        return mac == UnsafeRawBufferPointer(rebasing: bytes[(mi + 4)..<(mi + 24)])
    }

    /// Convenience for tests and tools (keys the HMAC and allocates on every call).
    public func hasValidIntegrity(key: SymmetricKey) -> Bool {
        var scratch: [UInt8] = []
        return hasValidIntegrity(key: STUNIntegrityKey(key), scratch: &scratch)
    }
}
