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

    public init() {}
}
