import ChatAPI

/// Limits and timings of the WebSocket layer (PROTOCOL.md "WebSocket /ws").
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

    public init() {}
}

/// WebSocket close codes of PROTOCOL.md.
public enum CloseCode {
    public static let unauthorized: UInt16 = 4401
    /// A browser origin that is neither the server's own nor in ALLOWED_ORIGINS.
    public static let forbiddenOrigin: UInt16 = 4403
    public static let authTimeout: UInt16 = 4408
    public static let tooLarge: UInt16 = 4413
    public static let rateLimited: UInt16 = 4429
    /// The event bus reconnected and events may have been missed: reconnect and refetch.
    public static let serviceRestart: UInt16 = 1012
}
