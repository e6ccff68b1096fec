import Crypto
import Foundation
import Hummingbird
import NIOCore

/// Who may read `/metrics`: a client on this machine (a loopback peer that is not a proxy
/// forwarding someone else), or anyone presenting `Authorization: Bearer <METRICS_TOKEN>` when
/// that is set. Everyone else gets 404, as if there were no such route. Behind Caddy the peer is
/// loopback, so a request carrying X-Forwarded-For from a trusted proxy counts as the client it
/// names, not as loopback.
public struct MetricsAccess: Sendable {
    public let token: String?
    public let proxies: TrustedProxies

    public init(token: String?, proxies: TrustedProxies) {
        self.token = token
        self.proxies = proxies
    }

    public func allows(peer: SocketAddress?, forwardedFor: String?, authorization: String?) -> Bool {
        if let token, let authorization, authorization.hasPrefix("Bearer ") {
            // Compare digests in constant time: neither length nor content leaks through timing.
            let presented = SHA256.hash(data: Data(authorization.dropFirst(7).utf8))
            let expected = SHA256.hash(data: Data(token.utf8))
            if Self.constantTimeEqual(Array(presented), Array(expected)) { return true }
        }
        return Self.isLoopback(proxies.clientAddress(peer: peer, forwardedFor: forwardedFor))
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    static func isLoopback(_ address: String) -> Bool {
        address == "::1" || address.hasPrefix("127.")
    }

    /// Adds `GET /metrics`, answered with `emit()` (Prometheus text) to those allowed.
    public func addRoute(to router: Router<ParleyRequestContext>, emit: @escaping @Sendable () -> [UInt8]) {
        router.get("metrics") { request, context in
            guard allows(peer: context.remoteAddress, forwardedFor: request.headers[.init("X-Forwarded-For")!],
                         authorization: request.headers[.authorization])
            else { throw APIError.notFound() }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: emit())))
        }
    }
}
