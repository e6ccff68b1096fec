import Crypto
import ByteOrder

/// An owned, decoded STUN message (RFC 8489 §5): type, transaction ID and attributes in order.
/// For tests, tools and the rare paths; the ICE agent reads checks through `STUNMessageView`
/// and writes responses with `STUNResponseWriter`, which do not allocate.
public struct STUNMessage: Hashable, Sendable {
    public var type: STUNMessageType
    public var transactionID: STUNTransactionID
    /// Every attribute as received, MESSAGE-INTEGRITY and FINGERPRINT included. When
    /// serializing, those two are not written from here but computed (see `serialize`).
    public var attributes: [STUNAttribute]

    public init(type: STUNMessageType, transactionID: STUNTransactionID = .random(), attributes: [STUNAttribute] = []) {
        self.type = type
        self.transactionID = transactionID
        self.attributes = attributes
    }

    /// Parses and decodes a whole message. Does not check integrity (that needs a key: see
    /// `STUNMessageView.hasValidIntegrity`) but does reject a wrong FINGERPRINT.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(STUNError) {
        let view = try STUNMessageView(parsing: bytes)
        if view.fingerprintOffset != nil && !view.hasValidFingerprint { throw .badFingerprint }
        self.type = view.type
        self.transactionID = view.transactionID
        var attributes: [STUNAttribute] = []
        let tid = view.transactionID
        var offset = STUNMessageView.headerSize
        while offset < bytes.count {
            let t = bytes.readBE16(at: offset)
            let len = Int(bytes.readBE16(at: offset + 2))
            let value = UnsafeRawBufferPointer(rebasing: bytes[(offset + 4)..<(offset + 4 + len)])
            // After MESSAGE-INTEGRITY only FINGERPRINT counts (RFC 8489 §14.5).
            if let mi = view.integrityOffset, offset > mi, t != STUNAttributeType.fingerprint.rawValue {
                offset += 4 + ((len + 3) & ~3)
                continue
            }
            attributes.append(try STUNAttribute(type: t, value: value, transactionID: tid))
            offset += 4 + ((len + 3) & ~3)
        }
        self.attributes = attributes
    }

    public init(parsing bytes: [UInt8]) throws(STUNError) {
        let result: Result<STUNMessage, STUNError> = bytes.withUnsafeBytes { raw in
            Result { () throws(STUNError) in try STUNMessage(parsing: raw) }
        }
        self = try result.get()
    }

    /// The first attribute of `type`, if any.
    public func attribute(_ type: STUNAttributeType) -> STUNAttribute? {
        attributes.first { $0.type == type }
    }

    /// Appends the wire form to `out`. Attributes are written in order, except that
    /// MESSAGE-INTEGRITY is computed with `integrityKey` (if given) and FINGERPRINT (if
    /// `fingerprint`) after all others, as RFC 8489 §14.5 and §14.7 require; such attributes in
    /// `attributes` are skipped. `padding` fills attribute padding (RFC 8489 §14 lets senders
    /// use any value; RFC 5769's vectors use 0x20).
    public func serialize(
        into out: inout [UInt8], integrityKey: SymmetricKey? = nil, fingerprint: Bool = false,
        padding: UInt8 = 0
    ) throws(STUNError) {
        let start = out.count
        out.appendBE16(type.rawValue)
        out.appendBE16(0)
        out.appendBE32(STUNMessageView.magicCookie)
        out.appendBE32(transactionID.high)
        out.appendBE64(transactionID.low)
        for attribute in attributes {
            if attribute.type == .messageIntegrity || attribute.type == .fingerprint { continue }
            let header = out.count
            out.appendBE32(UInt32(attribute.type.rawValue) << 16)
            try attribute.serializeValue(into: &out, transactionID: transactionID)
            let length = out.count - header - 4
            guard length <= 0xFFFF else { throw .valueTooLong }
            out.setBE16(UInt16(length), at: header + 2)
            while (out.count - start) % 4 != 0 { out.append(padding) }
        }
        try STUNResponseWriter.finish(&out, start: start, integrityKey: integrityKey.map(STUNIntegrityKey.init), fingerprint: fingerprint)
    }

    public func serialized(integrityKey: SymmetricKey? = nil, fingerprint: Bool = false, padding: UInt8 = 0) throws(STUNError) -> [UInt8] {
        var out: [UInt8] = []
        try serialize(into: &out, integrityKey: integrityKey, fingerprint: fingerprint, padding: padding)
        return out
    }
}
