/// A STUN attribute type number (RFC 8489 §14, §18.3; RFC 8445 §16.1 for the ICE ones).
public struct STUNAttributeType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static let mappedAddress = STUNAttributeType(0x0001)
    public static let username = STUNAttributeType(0x0006)
    public static let messageIntegrity = STUNAttributeType(0x0008)
    public static let errorCode = STUNAttributeType(0x0009)
    public static let unknownAttributes = STUNAttributeType(0x000A)
    public static let realm = STUNAttributeType(0x0014)
    public static let nonce = STUNAttributeType(0x0015)
    public static let xorMappedAddress = STUNAttributeType(0x0020)
    public static let priority = STUNAttributeType(0x0024)
    public static let useCandidate = STUNAttributeType(0x0025)
    public static let software = STUNAttributeType(0x8022)
    public static let fingerprint = STUNAttributeType(0x8028)
    public static let iceControlled = STUNAttributeType(0x8029)
    public static let iceControlling = STUNAttributeType(0x802A)

    /// Types 0x0000-0x7FFF are comprehension-required: an agent that does not understand one
    /// must not process the message (RFC 8489 §14, answered with 420 per §6.3.1.1).
    public var isComprehensionRequired: Bool { rawValue < 0x8000 }

    /// Whether this agent understands the type, i.e. whether it counts as "known" for the 420 rule.
    public var isUnderstood: Bool {
        switch self {
        case .mappedAddress, .username, .messageIntegrity, .errorCode, .unknownAttributes, .realm,
            .nonce, .xorMappedAddress, .priority, .useCandidate, .software, .fingerprint,
            .iceControlled, .iceControlling:
            return true
        default:
            return false
        }
    }

    public var description: String { "0x" + String(rawValue, radix: 16).leftPadded(to: 4) }
}
