import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore
import NIOWebSocket
import Synchronization
import Testing

/// A frame as the tests read it.
struct Frame: Sendable {
    let text: String
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:] }
    var type: String? { json["type"] as? String }
    var id: String? { json["id"] as? String }
    var data: [String: Any] { json["data"] as? [String: Any] ?? [:] }
    var errorCode: String? { type == "error" ? data["code"] as? String : nil }
}

struct TestTimeout: Error, CustomStringConvertible {
    var waitingFor: String
    var description: String { "timed out waiting for \(waitingFor)" }
}

/// A real WebSocket client (swift-websocket's) driven by the tests: frames in arrive in a
/// buffer the test reads with timeouts; frames out are queued and written in order.
final class WSTestClient: Sendable {
    private final class Shared: Sendable {
        let received = Mutex<[String]>([])
        let closeCode = Mutex<UInt16?>(nil)
        let finished = Mutex(false)
    }
    private let shared = Shared()
    private let outgoing: AsyncStream<String>.Continuation
    private let task: Task<Void, Never>

    init(port: Int, query: String = "", headers: HTTPFields = [:]) {
        let (stream, continuation) = AsyncStream<String>.makeStream()
        self.outgoing = continuation
        let shared = self.shared
        var logger = Logger(label: "ws-test-client")
        logger.logLevel = .critical
        task = Task {
          do {  // An upgrade refused or a connection lost ends the client with no close code.
            let close = try await WebSocketClient.connect(
                url: "ws://127.0.0.1:\(port)/ws\(query)",
                configuration: .init(maxFrameSize: 1 << 20, additionalHeaders: headers), logger: logger
            ) { inbound, outbound, _ in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await text in stream { try await outbound.write(.text(text)) }
                    }
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        if case .text(let text) = message { shared.received.withLock { $0.append(text) } }
                    }
                    group.cancelAll()
                }
            }
            if let close { shared.closeCode.withLock { $0 = UInt16(webSocketErrorCode: close.closeCode) } }
          } catch {}
            shared.finished.withLock { $0 = true }
        }
    }

    func send(_ object: [String: Any]) {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        outgoing.yield(String(decoding: data, as: UTF8.self))
    }

    func sendRaw(_ text: String) { outgoing.yield(text) }

    func send(_ type: String, id: String? = nil, _ data: [String: Any] = [:]) {
        var frame: [String: Any] = ["type": type, "data": data]
        if let id { frame["id"] = id }
        send(frame)
    }

    /// The first unread frame of `type` (and `id`, when given), within `timeout`. Frames of
    /// other types stay for later reads.
    func next(_ type: String? = nil, id: String? = nil, timeout: Duration = .seconds(5)) async throws -> Frame {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let frame: Frame? = shared.received.withLock { frames in
                for (index, text) in frames.enumerated() {
                    let frame = Frame(text: text)
                    if (type == nil || frame.type == type) && (id == nil || frame.id == id) {
                        frames.remove(at: index)
                        return frame
                    }
                }
                return nil
            }
            if let frame { return frame }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw TestTimeout(waitingFor: type ?? "any frame")
    }

    /// Fails if a frame of `type` arrives within `window`.
    func expectNone(_ type: String, within window: Duration = .milliseconds(300)) async throws {
        let frame = try? await next(type, timeout: window)
        #expect(frame == nil, "unexpected \(type): \(frame?.text ?? "")")
    }

    /// Authenticates with the first frame and waits for `auth.success`.
    func authenticate(_ token: String) async throws {
        send("auth", id: "auth-1", ["token": token])
        let reply = try await next()
        #expect(reply.type == "auth.success", "got \(reply.text)")
    }

    /// Waits for the server to close the connection and returns the close code it sent.
    func closeCode(timeout: Duration = .seconds(5)) async throws -> UInt16? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if shared.finished.withLock({ $0 }) { return shared.closeCode.withLock { $0 } }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestTimeout(waitingFor: "close")
    }

    var isClosed: Bool { shared.finished.withLock { $0 } }

    func close() async {
        outgoing.finish()
        task.cancel()
        _ = await task.value
    }
}
