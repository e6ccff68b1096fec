/// What the ICE-lite agent asks its caller to do after an input. The agent itself never sends,
/// sleeps or locks: it is a state machine (inputs: a datagram, its 5-tuple, the time; outputs:
/// these actions), so every rule can be tested without sockets or clocks.
public enum ICEAgentAction: Equatable, Sendable {
    /// Send nothing; nothing changed. The reason is for counters and logs.
    case drop(ICEDropReason)
    /// Send the error response now in the output buffer to `to`. No state changed.
    case sendError(to: FiveTuple, code: Int)
    /// A valid check: send the success response in the output buffer to `to`. The 5-tuple is
    /// now a validated path of `transport`; `selection` is set when the path that carries
    /// media was chosen or moved by this check.
    case sendSuccess(to: FiveTuple, transport: ICETransportID, selection: ICESelectionChange?)
}

/// The media path of a transport was nominated (`previous == nil`) or moved to another
/// 5-tuple (a phone that switched networks).
public struct ICESelectionChange: Equatable, Sendable {
    public var previous: FiveTuple?
    public var current: FiveTuple

    public init(previous: FiveTuple?, current: FiveTuple) {
        self.previous = previous
        self.current = current
    }
}

/// Why an input was dropped without an answer.
public enum ICEDropReason: Equatable, Sendable {
    /// Not a parseable STUN message.
    case malformed(STUNError)
    /// FINGERPRINT present but wrong (RFC 8445 §7.2.2 / RFC 8489 §14.7): not really STUN.
    case badFingerprint
    /// Not a Binding request: indications are keepalives (RFC 8445 §11) and need no answer;
    /// a lite agent sends no requests, so responses are unexpected.
    case notBindingRequest
    /// No USERNAME, or one whose ufrag names no transport here. A shared port answers no one it
    /// cannot name: there is no key to sign an answer with, and answering would make the port
    /// an oracle for valid ufrags.
    case unknownUsername
}

/// Why a transport was closed.
public enum ICECloseReason: Equatable, Sendable {
    /// No valid check for the consent timeout (RFC 7675 §5.1: 30 s).
    case consentExpired
    /// Removed by its owner.
    case removed
}
