/// Counts of what the router dropped or answered, for metrics. Plain integers: the router is
/// confined to one thread.
public struct MediaRouterCounters: Sendable, Equatable {
    public var stunSuccess = 0
    public var stunErrors = 0
    public var stunDropped = 0
    /// DTLS/RTP/RTCP from a 5-tuple no valid check came from: dropped, no state (RFC 8445 §7.3).
    public var mediaFromUnknownPath = 0
    public var mediaDelivered = 0
    /// First byte not STUN, DTLS, RTP or RTCP (RFC 7983).
    public var unknownKind = 0
    public var transportsClosedByConsent = 0
    /// Connectivity checks refused for their credentials: a USERNAME whose ufrag names no
    /// transport here, or a request without MESSAGE-INTEGRITY or whose MESSAGE-INTEGRITY (or
    /// remote ufrag) does not match (RFC 8445 §7.3, RFC 8489 §9.1.3). A peer that never
    /// connects because its credentials are stale or wrong shows here and nowhere else: such
    /// checks change no state. Exported as `parley_ice_check_failures_total`.
    public var checkFailures = 0

    public init() {}
}
