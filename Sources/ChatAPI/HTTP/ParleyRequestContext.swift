import Hummingbird
import Logging
import NIOCore

/// The per-request context: the peer address (for rate limits and X-Forwarded-For), and the
/// caller once `AuthMiddleware` has verified their token.
public struct ParleyRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    public var caller: AuthContext?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// The verified caller; routes behind `AuthMiddleware` always have one.
    public func requireCaller() throws -> AuthContext {
        guard let caller else { throw APIError.unauthorized() }
        return caller
    }
}
