import ChatAPI
import ChatTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// `/metrics`: loopback clients, or the METRICS_TOKEN bearer; 404 for everyone else.
@Suite struct MetricsAccessTests {
    let access = MetricsAccess(token: "a-metrics-token-of-some-length", proxies: .loopback)

    @Test("who may read /metrics")
    func decisions() throws {
        let loopback = try SocketAddress(ipAddress: "127.0.0.1", port: 4000)
        let loopback6 = try SocketAddress(ipAddress: "::1", port: 4000)
        let remote = try SocketAddress(ipAddress: "203.0.113.9", port: 4000)
        #expect(access.allows(peer: loopback, forwardedFor: nil, authorization: nil))
        #expect(access.allows(peer: loopback6, forwardedFor: nil, authorization: nil))
        #expect(!access.allows(peer: remote, forwardedFor: nil, authorization: nil))
        // Behind Caddy: the peer is loopback, the client is whoever Caddy forwards.
        #expect(!access.allows(peer: loopback, forwardedFor: "203.0.113.9", authorization: nil))
        // An untrusted peer cannot claim to be loopback.
        #expect(!access.allows(peer: remote, forwardedFor: "127.0.0.1", authorization: nil))
        #expect(access.allows(peer: remote, forwardedFor: nil, authorization: "Bearer a-metrics-token-of-some-length"))
        #expect(access.allows(peer: loopback, forwardedFor: "203.0.113.9", authorization: "Bearer a-metrics-token-of-some-length"))
        #expect(!access.allows(peer: remote, forwardedFor: nil, authorization: "Bearer a-metrics-token-of-some-lengtH"))
        #expect(!access.allows(peer: remote, forwardedFor: nil, authorization: "Bearer "))
        let noToken = MetricsAccess(token: nil, proxies: .loopback)
        #expect(!noToken.allows(peer: remote, forwardedFor: nil, authorization: "Bearer "))
    }

    @Test("over a real socket: loopback reads, a forwarded client gets 404 unless it has the token")
    func live() async throws {
        let router = Router(context: ParleyRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        access.addRoute(to: router) { Array("parley_up 1\n".utf8) }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let direct = try await client.execute(uri: "/metrics", method: .get)
            #expect(direct.status == .ok)
            #expect(String(buffer: direct.body).contains("parley_up 1"))
            let forwarded = try await client.execute(uri: "/metrics", method: .get, headers: [.init("X-Forwarded-For")!: "198.51.100.7"])
            #expect(forwarded.status == .notFound)
            let withToken = try await client.execute(uri: "/metrics", method: .get, headers: [
                .init("X-Forwarded-For")!: "198.51.100.7", .authorization: "Bearer a-metrics-token-of-some-length"])
            #expect(withToken.status == .ok)
        }
    }
}
