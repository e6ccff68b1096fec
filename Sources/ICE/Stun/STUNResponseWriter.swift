import Crypto
import ByteOrder

/// Writes the Binding responses an ICE-lite agent sends straight into a reused buffer: no
/// `STUNAttribute` values, no intermediate arrays (docs/architecture.md: no heap allocation per packet).
public enum STUNResponseWriter {
    /// Starts a message: header with length 0, to be fixed by `finish`.
    @inline(__always)
    static func begin(_ out: inout [UInt8], type: STUNMessageType, transactionID: STUNTransactionID) {
        out.appendBE16(type.rawValue)
        out.appendBE16(0)
        out.appendBE32(STUNMessageView.magicCookie)
        out.appendBE32(transactionID.high)
        out.appendBE64(transactionID.low)
    }

    /// Appends MESSAGE-INTEGRITY (if `integrityKey`) and FINGERPRINT (if asked) and sets the
    /// header length, for the message that starts at `start` in `out`.
    static func finish(_ out: inout [UInt8], start: Int, integrityKey: STUNIntegrityKey?, fingerprint: Bool) throws(STUNError) {
        if let key = integrityKey {
            let mi = out.count
            out.appendBE32(UInt32(STUNAttributeType.messageIntegrity.rawValue) << 16 | 20)
            out.append(contentsOf: repeatElement(0, count: 20))
            guard out.count - start - 20 <= 0xFFFF else { throw .valueTooLong }
            out.setBE16(UInt16(out.count - start - 20), at: start + 2)
            // The header length already ends at MESSAGE-INTEGRITY: MAC the bytes in place.
            let mac = out.withUnsafeBytes { raw in key.mac(UnsafeRawBufferPointer(rebasing: raw[start..<mi])) }
            mac.withUnsafeBytes { m in
                for i in 0..<20 { out[mi + 4 + i] = m[i] }
            }
        }
        if fingerprint {
            let fp = out.count
            out.appendBE32(UInt32(STUNAttributeType.fingerprint.rawValue) << 16 | 4)
            out.appendBE32(0)
            guard out.count - start - 20 <= 0xFFFF else { throw .valueTooLong }
            out.setBE16(UInt16(out.count - start - 20), at: start + 2)
            let crc = out.withUnsafeBytes { raw in
                STUNIntegrity.fingerprint(message: UnsafeRawBufferPointer(rebasing: raw[start...]), fingerprintOffset: fp - start)
            }
            out.setBE32(crc, at: fp + 4)
        }
        guard out.count - start - 20 <= 0xFFFF else { throw .valueTooLong }
        out.setBE16(UInt16(out.count - start - 20), at: start + 2)
    }

    /// A Binding success response to `request`, with XOR-MAPPED-ADDRESS = `mapped`,
    /// MESSAGE-INTEGRITY with `key` and FINGERPRINT (RFC 8445 §7.3.1.3, RFC 8489 §6.3.1.1).
    /// Replaces the contents of `out`, keeping its capacity.
    public static func bindingSuccess(
        into out: inout [UInt8], transactionID: STUNTransactionID, mapped: TransportAddress, key: STUNIntegrityKey
    ) {
        out.removeAll(keepingCapacity: true)
        begin(&out, type: .bindingSuccess, transactionID: transactionID)
        out.appendBE32(UInt32(STUNAttributeType.xorMappedAddress.rawValue) << 16 | (mapped.isIPv4 ? 8 : 20))
        STUNAddressCodec.encode(mapped, xor: transactionID, into: &out)
        try! finish(&out, start: 0, integrityKey: key, fingerprint: true)  // a few dozen bytes: cannot overflow
    }

    /// A Binding error response (RFC 8489 §6.3.1.1) with ERROR-CODE, UNKNOWN-ATTRIBUTES for 420,
    /// MESSAGE-INTEGRITY when the request was authenticated (`key`, RFC 8489 §9.1.4), FINGERPRINT.
    public static func bindingError(
        into out: inout [UInt8], transactionID: STUNTransactionID, code: Int, reason: StaticString,
        unknown: [UInt16] = [], key: STUNIntegrityKey?
    ) {
        out.removeAll(keepingCapacity: true)
        begin(&out, type: .bindingError, transactionID: transactionID)
        let header = out.count
        out.appendBE32(UInt32(STUNAttributeType.errorCode.rawValue) << 16)
        out.appendBE16(0)
        out.append(UInt8(code / 100))
        out.append(UInt8(code % 100))
        reason.withUTF8Buffer { out.append(contentsOf: $0) }
        out.setBE16(UInt16(out.count - header - 4), at: header + 2)
        while out.count % 4 != 0 { out.append(0) }
        if !unknown.isEmpty {
            out.appendBE32(UInt32(STUNAttributeType.unknownAttributes.rawValue) << 16 | UInt32(unknown.count * 2))
            for t in unknown { out.appendBE16(t) }
            while out.count % 4 != 0 { out.append(0) }
        }
        try! finish(&out, start: 0, integrityKey: key, fingerprint: true)  // bounded sizes: cannot overflow
    }
}
