import NIOCore
import NIOPosix

/// Sends a bare WebSocket upgrade request (with the `Origin` a browser would send) and returns
/// everything the server sent until it closed, `until` appeared in it, or the wait passed (a
/// second by default: long enough for a refusal, which closes at once; a test that expects an
/// answer names it in `until` and may wait longer, so a slow run, under ThreadSanitizer say,
/// does not cut the answer off). swift-websocket's client always sets its own `Origin`, so
/// browser origins are tested this way.
enum RawUpgrade {
    final class Collector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let promise: EventLoopPromise<[UInt8]>
        let until: [UInt8]?
        var bytes: [UInt8] = []
        init(promise: EventLoopPromise<[UInt8]>, until: String?) {
            self.promise = promise
            self.until = until.map { Array($0.utf8) }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            bytes += unwrapInboundIn(data).readableBytesView
            if let until, bytes.count >= until.count,
               (0...(bytes.count - until.count)).contains(where: { bytes[$0..<($0 + until.count)].elementsEqual(until) }) {
                context.close(promise: nil)
            }
        }
        func channelInactive(context: ChannelHandlerContext) { promise.succeed(bytes) }
    }

    struct Answer {
        var bytes: [UInt8]
        var text: String { String(decoding: bytes, as: UTF8.self) }
        var status: Int {
            let line = text.split(separator: "\r\n").first ?? ""
            let parts = line.split(separator: " ")
            return parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        }
        /// The code of the first WebSocket close frame (opcode 0x8) after the handshake.
        var closeCode: UInt16? {
            let marker: [UInt8] = [13, 10, 13, 10]
            guard let start = (0...max(0, bytes.count - 4)).first(where: { Array(bytes[$0..<min($0 + 4, bytes.count)]) == marker })
            else { return nil }
            var frames = Array(bytes[(start + 4)...])
            while frames.count >= 4 {
                let opcode = frames[0] & 0x0F, length = Int(frames[1] & 0x7F)
                if opcode == 0x8 { return UInt16(frames[2]) << 8 | UInt16(frames[3]) }
                let header = length == 126 ? 4 : 2
                let size = length == 126 ? Int(frames[2]) << 8 | Int(frames[3]) : length
                guard frames.count >= header + size else { return nil }
                frames.removeFirst(header + size)
            }
            return nil
        }
    }

    static func attempt(port: Int, origin: String? = nil, query: String = "", until: String? = nil,
                        wait: TimeAmount = .seconds(1)) async throws -> Answer {
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.any().makePromise(of: [UInt8].self)
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Collector(promise: promise, until: until)) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        var request = "GET /ws\(query) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        if let origin { request += "Origin: \(origin)\r\n" }
        try await channel.writeAndFlush(ByteBuffer(string: request + "\r\n")).get()
        channel.eventLoop.scheduleTask(in: wait) { channel.close(promise: nil) }
        return Answer(bytes: try await promise.futureResult.get())
    }
}
