import ChatAPI
import Foundation
import NIOCore
import NIOPosix
import Signaling
import Testing

/// A WebSocket client that completes the opening handshake and then never reads again, with
/// a tiny receive buffer: the server's writes to it stall, as with a phone on a dead network.
struct StalledClient {
    let channel: any Channel

    static func connect(port: Int, token: String) async throws -> StalledClient {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.autoRead, value: false)
            .channelOption(.socketOption(.so_rcvbuf), value: 4096)
            .connect(host: "127.0.0.1", port: port).get()
        let request = "GET /ws?token=\(token) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        try await channel.writeAndFlush(ByteBuffer(string: request)).get()
        return StalledClient(channel: channel)
    }
}

@Suite("Slow consumers")
struct SlowConsumerTests {
    @Test("a client that stops reading is cut off, and the others keep receiving everything")
    func stalledClientIsDisconnected() async throws {
        try await withSignaling(options: .test { $0.outboundCapacity = 64 }) { env in
            let bob = try await env.signUp("Bob")
            let stalled = try await StalledClient.connect(port: env.port, token: bob.token)
            let healthy = try await env.client(bob.token)
            let deadline = ContinuousClock.now + .seconds(5)
            while env.server.hub.connectionCount < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            #expect(env.server.hub.connectionCount == 2)

            // The healthy client never has more than 16 frames in flight (a quarter of its queue),
            // however slow this machine is; the stalled one takes all 1000 (32 MB) and overflows.
            let padding = String(repeating: "x", count: 32 * 1024)
            let count = 1000, window = 16
            var received = 0
            for index in 0..<count {
                env.server.hub.deliver(BusMessage(
                    frame: ServerFrame(text: #"{"type":"bulk","data":{"n":\#(index),"pad":"\#(padding)"}}"#),
                    recipients: [bob.id]))
                if index >= window {
                    let frame = try await healthy.next("bulk", timeout: .seconds(20))
                    #expect(frame.data["n"] as? Int == received)
                    received += 1
                }
            }
            while received < count {
                let frame = try await healthy.next("bulk", timeout: .seconds(20))
                #expect(frame.data["n"] as? Int == received)
                received += 1
            }
            let cutoff = ContinuousClock.now + .seconds(10)
            while env.server.hub.connectionCount > 1, ContinuousClock.now < cutoff { try await Task.sleep(for: .milliseconds(20)) }
            #expect(env.server.hub.connectionCount == 1, "the stalled connection is gone, the healthy one stays")
            #expect(!healthy.isClosed)
            try? await stalled.channel.close().get()
            await healthy.close()
        }
    }
}

@Suite("Outbound queue")
struct OutboundQueueTests {
    @Test("past half full, droppable frames are dropped; full, the queue overflows and closes")
    func dropAndOverflow() async {
        let queue = OutboundQueue(capacity: 4)
        let frame = ByteBuffer(string: "{}")
        #expect(queue.offer(frame, droppable: true) == .queued)
        #expect(queue.offer(frame, droppable: false) == .queued)
        #expect(queue.offer(frame, droppable: true) == .dropped)
        #expect(queue.offer(frame, droppable: false) == .queued)
        #expect(queue.offer(frame, droppable: false) == .queued)
        #expect(queue.offer(frame, droppable: false) == .overflow)
        #expect(queue.overflowed)
        #expect(queue.offer(frame, droppable: false) == .closed)
        #expect(await queue.next() == nil)
    }

    @Test("next hands over everything queued, in order, and waits for more")
    func drains() async {
        let queue = OutboundQueue(capacity: 8)
        for text in ["a", "b", "c"] { _ = queue.offer(ByteBuffer(string: text), droppable: false) }
        #expect(await queue.next()?.map { String(buffer: $0) } == ["a", "b", "c"])
        let waiting = Task { await queue.next()?.map { String(buffer: $0) } }
        try? await Task.sleep(for: .milliseconds(20))
        _ = queue.offer(ByteBuffer(string: "d"), droppable: false)
        #expect(await waiting.value == ["d"])
        queue.close()
        #expect(await queue.next() == nil)
    }
}
