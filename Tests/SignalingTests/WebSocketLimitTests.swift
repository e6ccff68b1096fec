import ChatAPI
import Foundation
import Hummingbird
import NIOCore
import Signaling
import Testing

/// The per-user message budget over the WebSocket (shared with REST) and the caps on open
/// WebSockets.
@Suite struct WebSocketLimitTests {
    static let threeMessages: ChatLimits = {
        var limits = ChatLimits.unlimited
        limits.messages = .init(limit: 3, windowMilliseconds: 10_000)
        return limits
    }()

    @Test("REST and WebSocket sends share one budget; past it an error frame rate_limited, and the socket stays open")
    func sharedBudget() async throws {
        try await withSignaling(limits: Self.threeMessages) { env in
            let ada = try await env.signUp("Ada")
            let group = try await env.group(ada.token, members: [])
            for index in 0..<2 {
                try await env.request(.post, "/conversations/\(group)/messages", token: ada.token, json: ["content": "rest \(index)"])
            }
            let client = try await env.client(ada.token)
            client.send("message.send", id: "s1", ["conversationId": group, "content": "ws", "clientMsgId": "c1"])
            #expect(try await client.next("message.sent", id: "s1").id == "s1")
            client.send("message.send", id: "s2", ["conversationId": group, "content": "ws", "clientMsgId": "c2"])
            let refused = try await client.next("error", id: "s2")
            #expect(refused.errorCode == "rate_limited")
            client.send("ping", id: "still-open")
            #expect(try await client.next("pong", id: "still-open").id == "still-open")
            let rest = try await env.rest("/conversations/\(group)/messages", .post,
                                          [.authorization: "Bearer \(ada.token)", .contentType: "application/json"],
                                          ByteBuffer(string: #"{"content":"rest again"}"#))
            #expect(rest.status == .tooManyRequests)
            #expect(rest.headers[.retryAfter] != nil)
            env.clock.advance(seconds: 4)
            client.send("message.send", id: "s3", ["conversationId": group, "content": "later", "clientMsgId": "c3"])
            #expect(try await client.next("message.sent", id: "s3").id == "s3")
            await client.close()
        }
    }

    @Test("a client that keeps sending past its budget is closed with 4429")
    func floodGoesOn() async throws {
        try await withSignaling(options: .test { $0.rateLimitedBurst = 5 }, limits: Self.threeMessages) { env in
            let ada = try await env.signUp("Ada")
            let group = try await env.group(ada.token, members: [])
            let client = try await env.client(ada.token)
            for index in 0..<20 {
                client.send("message.send", id: "f\(index)", ["conversationId": group, "content": "x", "clientMsgId": "f\(index)"])
            }
            #expect(try await client.closeCode() == 4429)
        }
    }

    @Test("WS_MAX_PER_USER: one socket too many gets error limit_reached and close 4409")
    func perUserCap() async throws {
        try await withSignaling(options: .test { $0.maxConnectionsPerUser = 2 }) { env in
            let ada = try await env.signUp("Ada"), bob = try await env.signUp("Bob")
            let first = try await env.client(ada.token), second = try await env.client(ada.token)
            let third = WSTestClient(port: env.port)
            third.send("auth", id: "a3", ["token": ada.token])
            let refused = try await third.next()
            #expect(refused.errorCode == "limit_reached")
            #expect(refused.id == "a3")
            #expect((refused.data["message"] as? String)?.contains("WS_MAX_PER_USER") == true)
            #expect(try await third.closeCode() == 4409)
            let other = try await env.client(bob.token)  // the cap is per user
            await first.close()
            try await Task.sleep(for: .milliseconds(100))
            let again = try await env.client(ada.token)  // a slot given back is taken again
            for client in [second, other, again] { await client.close() }
        }
    }

    @Test("WS_MAX_PER_ADDRESS counts open sockets, authenticated or not, and refuses past it with 4409")
    func perAddressCap() async throws {
        try await withSignaling(options: .test { $0.maxConnectionsPerAddress = 2 }) { env in
            let ada = try await env.signUp("Ada")
            let authenticated = try await env.client(ada.token)
            let idle = WSTestClient(port: env.port)
            try await Task.sleep(for: .milliseconds(200))
            let answer = try await RawUpgrade.attempt(port: env.port, query: "")
            #expect(answer.text.contains(#""code":"limit_reached""#))
            #expect(answer.text.contains("WS_MAX_PER_ADDRESS"))
            #expect(answer.closeCode == 4409)
            await idle.close()
            try await Task.sleep(for: .milliseconds(200))
            let next = try await env.client(ada.token)
            for client in [authenticated, next] { await client.close() }
        }
    }
}
