import ByteOrder

/// One STUN attribute, decoded (RFC 8489 §14, RFC 8445 §16.1). Unknown types are kept as
/// `.other` so that a message round-trips and the 420 rule can name them.
public enum STUNAttribute: Hashable, Sendable {
    /// MAPPED-ADDRESS (RFC 8489 §14.1), kept for RFC 3489-era peers.
    case mappedAddress(TransportAddress)
    /// XOR-MAPPED-ADDRESS (RFC 8489 §14.2): the peer's address as seen by us, obfuscated by XOR
    /// with the magic cookie (and the transaction ID for IPv6) so NATs do not rewrite it.
    case xorMappedAddress(TransportAddress)
    /// USERNAME (RFC 8489 §14.3); in ICE "receiverUfrag:senderUfrag" (RFC 8445 §7.2.2).
    case username(String)
    /// MESSAGE-INTEGRITY (RFC 8489 §14.5): HMAC-SHA1, 20 bytes. Computed by `serialize`.
    case messageIntegrity([UInt8])
    /// ERROR-CODE (RFC 8489 §14.8): 300-699 and a reason phrase.
    case errorCode(code: Int, reason: String)
    /// UNKNOWN-ATTRIBUTES (RFC 8489 §14.9), sent with a 420 error.
    case unknownAttributes([UInt16])
    /// REALM (RFC 8489 §14.9), long-term credentials only.
    case realm(String)
    /// NONCE (RFC 8489 §14.10), long-term credentials only.
    case nonce(String)
    /// SOFTWARE (RFC 8489 §14.14).
    case software(String)
    /// PRIORITY (RFC 8445 §7.1.1): the priority a peer-reflexive candidate would get.
    case priority(UInt32)
    /// USE-CANDIDATE (RFC 8445 §7.1.2): the controlling agent nominates this pair.
    case useCandidate
    /// ICE-CONTROLLED (RFC 8445 §7.1.3) with the sender's tie-breaker.
    case iceControlled(tieBreaker: UInt64)
    /// ICE-CONTROLLING (RFC 8445 §7.1.3) with the sender's tie-breaker.
    case iceControlling(tieBreaker: UInt64)
    /// FINGERPRINT (RFC 8489 §14.7): CRC-32 xor 0x5354554E. Computed by `serialize`.
    case fingerprint(UInt32)
    /// Any other attribute, value as received.
    case other(type: UInt16, value: [UInt8])

    public var type: STUNAttributeType {
        switch self {
        case .mappedAddress: .mappedAddress
        case .xorMappedAddress: .xorMappedAddress
        case .username: .username
        case .messageIntegrity: .messageIntegrity
        case .errorCode: .errorCode
        case .unknownAttributes: .unknownAttributes
        case .realm: .realm
        case .nonce: .nonce
        case .software: .software
        case .priority: .priority
        case .useCandidate: .useCandidate
        case .iceControlled: .iceControlled
        case .iceControlling: .iceControlling
        case .fingerprint: .fingerprint
        case .other(let type, _): STUNAttributeType(type)
        }
    }

    /// Decodes one attribute value (without its 4-byte header or padding).
    public init(type rawType: UInt16, value: UnsafeRawBufferPointer, transactionID: STUNTransactionID) throws(STUNError) {
        let type = STUNAttributeType(rawType)
        switch type {
        case .mappedAddress:
            self = .mappedAddress(try STUNAddressCodec.decode(value, xor: nil, type: rawType))
        case .xorMappedAddress:
            self = .xorMappedAddress(try STUNAddressCodec.decode(value, xor: transactionID, type: rawType))
        case .username:
            // RFC 8489 §14.3: fewer than 509 bytes (763 for the quoted-string forms; we are strict).
            guard value.count <= 513 else { throw .malformedAttribute(type: rawType) }
            self = .username(String(decoding: value, as: UTF8.self))
        case .messageIntegrity:
            guard value.count == 20 else { throw .malformedAttribute(type: rawType) }
            self = .messageIntegrity(Array(value))
        case .errorCode:
            guard value.count >= 4 else { throw .malformedAttribute(type: rawType) }
            let cls = Int(value[2] & 0x07)
            let number = Int(value[3])
            guard (3...6).contains(cls), number < 100 else { throw .malformedAttribute(type: rawType) }
            let reason = String(decoding: UnsafeRawBufferPointer(rebasing: value[4...]), as: UTF8.self)
            self = .errorCode(code: cls * 100 + number, reason: reason)
        case .unknownAttributes:
            guard value.count % 2 == 0 else { throw .malformedAttribute(type: rawType) }
            self = .unknownAttributes(stride(from: 0, to: value.count, by: 2).map { value.readBE16(at: $0) })
        case .realm:
            self = .realm(String(decoding: value, as: UTF8.self))
        case .nonce:
            self = .nonce(String(decoding: value, as: UTF8.self))
        case .software:
            self = .software(String(decoding: value, as: UTF8.self))
        case .priority:
            guard value.count == 4 else { throw .malformedAttribute(type: rawType) }
            self = .priority(value.readBE32(at: 0))
        case .useCandidate:
            guard value.count == 0 else { throw .malformedAttribute(type: rawType) }
            self = .useCandidate
        case .iceControlled:
            guard value.count == 8 else { throw .malformedAttribute(type: rawType) }
            self = .iceControlled(tieBreaker: value.readBE64(at: 0))
        case .iceControlling:
            guard value.count == 8 else { throw .malformedAttribute(type: rawType) }
            self = .iceControlling(tieBreaker: value.readBE64(at: 0))
        case .fingerprint:
            guard value.count == 4 else { throw .malformedAttribute(type: rawType) }
            self = .fingerprint(value.readBE32(at: 0))
        default:
            self = .other(type: rawType, value: Array(value))
        }
    }

    /// Appends the attribute value (no header, no padding) to `out`.
    public func serializeValue(into out: inout [UInt8], transactionID: STUNTransactionID) throws(STUNError) {
        switch self {
        case .mappedAddress(let a):
            STUNAddressCodec.encode(a, xor: nil, into: &out)
        case .xorMappedAddress(let a):
            STUNAddressCodec.encode(a, xor: transactionID, into: &out)
        case .username(let s), .realm(let s), .nonce(let s), .software(let s):
            out.append(contentsOf: s.utf8)
        case .messageIntegrity(let mac):
            guard mac.count == 20 else { throw .malformedAttribute(type: type.rawValue) }
            out.append(contentsOf: mac)
        case .errorCode(let code, let reason):
            guard (300...699).contains(code) else { throw .malformedAttribute(type: type.rawValue) }
            out.appendBE16(0)
            out.append(UInt8(code / 100))
            out.append(UInt8(code % 100))
            out.append(contentsOf: reason.utf8)
        case .unknownAttributes(let types):
            for t in types { out.appendBE16(t) }
        case .priority(let p):
            out.appendBE32(p)
        case .useCandidate:
            break
        case .iceControlled(let t), .iceControlling(let t):
            out.appendBE64(t)
        case .fingerprint(let crc):
            out.appendBE32(crc)
        case .other(_, let value):
            out.append(contentsOf: value)
        }
    }
}

/// The (XOR-)MAPPED-ADDRESS value layout: 0, family, port, address (RFC 8489 §14.1, §14.2).
enum STUNAddressCodec {
    static let magicCookie: UInt32 = 0x2112_A442

    static func decode(_ v: UnsafeRawBufferPointer, xor tid: STUNTransactionID?, type: UInt16) throws(STUNError) -> TransportAddress {
        guard v.count >= 4 else { throw .malformedAttribute(type: type) }
        let family = v[1]
        var port = v.readBE16(at: 2)
        if tid != nil { port ^= UInt16(magicCookie >> 16) }
        switch family {
        case 0x01:
            guard v.count == 8 else { throw .malformedAttribute(type: type) }
            var a = v.readBE32(at: 4)
            if tid != nil { a ^= magicCookie }
            return TransportAddress(ipv4: a, port: port)
        case 0x02:
            guard v.count == 20 else { throw .malformedAttribute(type: type) }
            var h = v.readBE64(at: 4)
            var l = v.readBE64(at: 12)
            if let tid {
                h ^= UInt64(magicCookie) << 32 | UInt64(tid.high)
                l ^= tid.low
            }
            return TransportAddress(ipv6Bytes: h, l, port: port)
        default:
            throw .malformedAttribute(type: type)
        }
    }

    static func encode(_ a: TransportAddress, xor tid: STUNTransactionID?, into out: inout [UInt8]) {
        out.append(0)
        out.append(a.isIPv4 ? 0x01 : 0x02)
        out.appendBE16(tid != nil ? a.port ^ UInt16(magicCookie >> 16) : a.port)
        if let v4 = a.ipv4 {
            out.appendBE32(tid != nil ? v4 ^ magicCookie : v4)
        } else if let tid {
            out.appendBE64(a.high ^ (UInt64(magicCookie) << 32 | UInt64(tid.high)))
            out.appendBE64(a.low ^ tid.low)
        } else {
            out.appendBE64(a.high)
            out.appendBE64(a.low)
        }
    }
}
