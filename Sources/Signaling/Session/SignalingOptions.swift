import ChatAPI

/// Limits and timings of the WebSocket layer (docs/protocol.md "WebSocket /ws").
public struct SignalingOptions: Sendable {
    /// How long a connection may stay without `auth` before close code 4408.
    public var authTimeout: Duration = .seconds(10)
    /// Frames a connection may have waiting; past half, typing and presence are dropped.
    public var outboundCapacity: Int = 256
    /// Client frames per second allowed on average, and the burst above it; beyond, 4429.
    public var framesPerSecond: Double = 20
    public var frameBurst: Double = 60
    /// The largest client frame (after any decompression); larger ones close with 4413.
    public var maxFrameBytes: Int = 64 * 1024
    /// How often expired typing indicators are swept.
    public var typingSweepInterval: Duration = .milliseconds(500)
    public var origins: OriginPolicy = OriginPolicy(allowed: [])
    /// WS_MAX_PER_USER: open WebSockets per user on this instance (nil: off); past it, 4409.
    public var maxConnectionsPerUser: Int? = 20
    /// WS_MAX_PER_ADDRESS: open WebSockets per client address (an IPv6 /64 counts as one) on
    /// this instance, authenticated or not (nil: off); past it, 4409.
    public var maxConnectionsPerAddress: Int? = 200
    /// Who may say, with X-Forwarded-For, which client a connection comes from.
    public var trustedProxies: TrustedProxies = .loopback
    /// `rate_limited` answers a connection may draw in a burst (and one a second after) while
    /// its user's budget is spent; a client that keeps going past that is closed with 4429.
    public var rateLimitedBurst: Double = 30

    public init() {}
}

/// WebSocket close codes (README "API overview"; 1012 and 1013 are IANA's registered codes,
/// RFC 6455 §7.4.2).
public enum CloseCode {
    public static let unauthorized: UInt16 = 4401
    /// A browser origin that is neither the server's own nor in ALLOWED_ORIGINS.
    public static let forbiddenOrigin: UInt16 = 4403
    public static let authTimeout: UInt16 = 4408
    public static let tooLarge: UInt16 = 4413
    public static let rateLimited: UInt16 = 4429
    /// A cap on open WebSockets (WS_MAX_PER_USER, WS_MAX_PER_ADDRESS) is reached.
    public static let limitReached: UInt16 = 4409
    /// The event bus reconnected and events may have been missed: reconnect and refetch.
    public static let serviceRestart: UInt16 = 1012
    /// The database could not be reached to authenticate the connection: try again later.
    public static let tryAgainLater: UInt16 = 1013
}
