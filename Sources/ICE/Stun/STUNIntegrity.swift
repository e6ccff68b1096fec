import Crypto
import Foundation
import ByteOrder

/// MESSAGE-INTEGRITY and FINGERPRINT arithmetic (RFC 8489 §14.5, §14.7) and the credential keys
/// (§9.1.1 short-term, §9.2.2 long-term).
public enum STUNIntegrity {
    /// FINGERPRINT is the CRC-32 of the message up to it, xor this ("STUN" in ASCII).
    public static let fingerprintXor: UInt32 = 0x5354_554E

    /// The short-term key is the password itself (RFC 8489 §9.1.1). ICE passwords are ASCII
    /// ice-chars (RFC 8839 §5.4), for which OpaqueString (SASLprep) is the identity.
    public static func shortTermKey(password: String) -> SymmetricKey {
        SymmetricKey(data: Array(password.utf8))
    }

    /// The long-term key: MD5(username ":" OpaqueString(realm) ":" OpaqueString(password))
    /// (RFC 8489 §9.2.2; RFC 5389 §15.4 used SASLprep). ICE never uses it; it is here to
    /// check the RFC 5769 §2.4 vector.
    public static func longTermKey(username: String, realm: String, password: String) -> SymmetricKey {
        let input = "\(username):\(saslPrep(realm)):\(saslPrep(password))"
        return SymmetricKey(data: Array(Insecure.MD5.hash(data: Array(input.utf8))))
    }

    /// The parts of SASLprep (RFC 4013) that change real passwords: "commonly mapped to
    /// nothing" characters (RFC 3454 B.1) are removed, non-ASCII spaces (C.1.2) become U+0020,
    /// then NFKC. Prohibited-output and bidi checks are not done: the result is only a key.
    public static func saslPrep(_ s: String) -> String {
        let mappedToNothing: Set<UInt32> = [
            0x00AD, 0x034F, 0x1806, 0x180B, 0x180C, 0x180D, 0x200B, 0x200C, 0x200D, 0x2060,
            0xFE00, 0xFE01, 0xFE02, 0xFE03, 0xFE04, 0xFE05, 0xFE06, 0xFE07, 0xFE08, 0xFE09,
            0xFE0A, 0xFE0B, 0xFE0C, 0xFE0D, 0xFE0E, 0xFE0F, 0xFEFF,
        ]
        let nonASCIISpaces: Set<UInt32> = [
            0x00A0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007,
            0x2008, 0x2009, 0x200A, 0x200B, 0x202F, 0x205F, 0x3000,
        ]
        var scalars = String.UnicodeScalarView()
        for u in s.unicodeScalars where !mappedToNothing.contains(u.value) {
            scalars.append(nonASCIISpaces.contains(u.value) ? " " : u)
        }
        return String(scalars).precomposedStringWithCompatibilityMapping
    }

    /// HMAC-SHA1 over `message[0..<offset]` with the header's length field replaced by the
    /// length the message would have if it ended right after a MESSAGE-INTEGRITY attribute
    /// at `offset` (RFC 8489 §14.5). `message` must hold at least `offset` >= 20 bytes. The
    /// patched copy is made in `scratch` (reused: no allocation once it has grown).
    static func mac(key: STUNIntegrityKey, message: UnsafeRawBufferPointer, integrityOffset offset: Int,
                    scratch: inout [UInt8]) -> HMAC<Insecure.SHA1>.MAC {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: message[0..<offset]))
        scratch.setBE16(UInt16(truncatingIfNeeded: offset - 20 + 24), at: 2)
        return scratch.withUnsafeBytes { key.mac($0) }
    }

    /// The FINGERPRINT value for a message whose FINGERPRINT attribute starts at `offset`; the
    /// header length must already count the FINGERPRINT attribute.
    static func fingerprint(message: UnsafeRawBufferPointer, fingerprintOffset offset: Int) -> UInt32 {
        Crc32.checksum(UnsafeRawBufferPointer(rebasing: message[0..<offset])) ^ fingerprintXor
    }
}
