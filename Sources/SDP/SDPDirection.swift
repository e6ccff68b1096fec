/// The media direction attributes (RFC 8866 §6.7, RFC 3264 §6.1), seen from the side that
/// wrote the description.
public enum SDPDirection: String, Sendable, CaseIterable {
    case sendrecv, sendonly, recvonly, inactive

    /// Whether the writer of the description sends media in this direction.
    public var sends: Bool { self == .sendrecv || self == .sendonly }
    /// Whether the writer of the description receives media in this direction.
    public var receives: Bool { self == .sendrecv || self == .recvonly }

    /// The direction attribute among `attributes`, if any.
    public static func find(in attributes: [SDPAttribute]) -> SDPDirection? {
        for attribute in attributes where attribute.value == nil {
            if let direction = SDPDirection(rawValue: attribute.name) { return direction }
        }
        return nil
    }
}
