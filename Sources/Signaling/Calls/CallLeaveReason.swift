import SFU

/// Why the server ended a participant's part in a call: the `reason` of the `call.left` frame
/// its connection gets. A participant that sends `call.leave` or closes its WebSocket gets no
/// `call.left`: it knows already.
public enum CallLeaveReason: String, Sendable, Encodable, CaseIterable {
    /// Removed from the conversation, or left it: call membership follows conversation membership.
    case removed
    /// Its login ended (logout, refresh-token reuse) or its account was deactivated.
    case revoked
    /// Its media connection was lost: ICE consent lapsed (RFC 7675 §5.1) or DTLS failed.
    case consent
    /// The same connection joined another call (a connection is in one call at a time), or the
    /// same user joined this call again from another connection.
    case replaced
    /// The server is shutting down.
    case server
    /// A DM call the other person declined (`call.decline`), did not answer within
    /// `CALL_RING_TIMEOUT`, or left (`CallEndReason`).
    case declined, unanswered, alone

    init(_ reason: CallEndReason) {
        switch reason {
        case .declined: self = .declined
        case .unanswered: self = .unanswered
        case .alone: self = .alone
        }
    }
}
