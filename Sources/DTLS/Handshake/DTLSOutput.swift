/// What a `DTLSSession` call asks its caller to do. The session does no I/O: the caller (the
/// ICE/UDP layer, later the SFU) sends `datagrams` to the peer's address in order, acts on
/// `event`, and arms one timer for `timerDeadline` (cancelling any earlier one) that calls
/// `DTLSSession.handleTimeout(now:)`.
public struct DTLSOutput: Sendable {
    /// DTLS records to send, one UDP datagram each, none bigger than the session's MTU.
    public var datagrams: [[UInt8]]
    /// Something that happened in this call, if anything.
    public var event: DTLSEvent?
    /// When the retransmission timer fires (RFC 6347 §4.2.4); nil when no timer should run.
    public var timerDeadline: ContinuousClock.Instant?

    public init(datagrams: [[UInt8]] = [], event: DTLSEvent? = nil, timerDeadline: ContinuousClock.Instant? = nil) {
        self.datagrams = datagrams
        self.event = event
        self.timerDeadline = timerDeadline
    }
}

/// A state change of a `DTLSSession`.
public enum DTLSEvent: Sendable, Equatable {
    /// The handshake finished, the peer's certificate matched its SDP fingerprint, and SRTP keys
    /// were exported (RFC 5764 §4.2): make an `SRTPSession` from the material.
    case connected(SRTPKeyingMaterial)
    /// The handshake or the transport failed; close the transport (RFC 8122 §5 for a wrong
    /// fingerprint). `datagrams` of the same output may carry an alert for the peer.
    case failed(DTLSError)
    /// The peer sent close_notify, or `close()` was called.
    case closed
}
