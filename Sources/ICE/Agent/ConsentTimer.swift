/// Consent freshness for a lite agent (RFC 7675). A full agent refreshes consent by sending
/// checks; Parley, being lite, sends none and infers consent from the checks the peer keeps
/// sending (every few seconds, RFC 7675 §5.1). When none has validated for `timeout`, consent
/// is lost and the transport must stop sending: it is closed and reported.
public struct ConsentTimer: Sendable {
    /// RFC 7675 §5.1: consent expires 30 seconds after the last successful check.
    public static let defaultTimeout: Duration = .seconds(30)

    public var timeout: Duration
    public private(set) var lastConsent: ContinuousClock.Instant

    /// Starts the clock at creation, so a transport that is never checked is closed too.
    public init(timeout: Duration = ConsentTimer.defaultTimeout, now: ContinuousClock.Instant) {
        self.timeout = timeout
        self.lastConsent = now
    }

    public mutating func refresh(now: ContinuousClock.Instant) {
        if now > lastConsent { lastConsent = now }
    }

    public var deadline: ContinuousClock.Instant { lastConsent.advanced(by: timeout) }

    public func isExpired(now: ContinuousClock.Instant) -> Bool { now >= deadline }
}
