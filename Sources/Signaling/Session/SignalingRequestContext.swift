import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// The request context of the `/ws` upgrade route.
public struct SignalingRequestContext: RequestContext, WebSocketRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    public let remoteAddress: SocketAddress?
    /// The connection itself, so that a slow consumer can be cut off even while a write to it
    /// is stalled. Weak: the context lives in the connection's own WebSocket handler, and a
    /// strong reference back made a cycle that kept every closed connection (its socket
    /// channel, buffers and logger, about 5 KiB) in memory for good.
    weak var channel: (any Channel)?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
        self.remoteAddress = source.channel.remoteAddress
        self.channel = source.channel
    }
}
