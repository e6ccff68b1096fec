import DTLS
import Foundation
import HummingbirdWSClient
import ICE
import Logging
import Synchronization

/// One synthetic call participant's WebSocket (docs/protocol.md "WebSocket /ws", "Calls"):
/// authenticates, joins the call, publishes when asked, and answers every
/// `call.subscribe.offer` with its revision, handing each new transport to the UDP loop.
final class SFUBenchSignalingPeer: Sendable {
    let index: Int
    let user: BenchUser
    private let loop: SFUBenchLoop
    /// `sha-256 AB:...` of the benchmark's certificate.
    private let fingerprint: String
    private let publishLocal = ICECredentials.random()
    private let subscribeLocal = ICECredentials.random()
    private let sessionId = UInt64.random(in: 1...UInt64(Int64.max))
    /// Its subscribe transport floods the server with NACKs (`--nack-storm`).
    private let floodsNacks: Bool

    private struct State {
        var outbound: WebSocketOutboundWriter?
        /// The last frame of each awaited type, as text.
        var frames: [String: String] = [:]
        var errors: [String] = []
        var conversation = ""
        var subscribePort: UInt16?
        var answers = 0
        var closed = false
    }
    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)

    static let awaited: Set<String> = ["auth.success", "call.config", "call.participants", "call.publish.answer", "error"]

    init(index: Int, user: BenchUser, loop: SFUBenchLoop, fingerprint: String, floodsNacks: Bool = false) {
        self.index = index
        self.floodsNacks = floodsNacks
        self.user = user
        self.loop = loop
        self.fingerprint = fingerprint
    }

    var errors: [String] { state.withLock { $0.errors } }
    var answers: Int { state.withLock { $0.answers } }

    // MARK: requests

    /// Opens the WebSocket and returns once `auth.success` arrived.
    func connect(wsURL: String) async throws {
        var logger = Logger(label: "bench-sfu")
        logger.logLevel = .critical
        let url = wsURL + "?token=\(user.token)"
        let reader = Task { [self] in
            do {
                _ = try await WebSocketClient.connect(url: url, configuration: .init(maxFrameSize: 1 << 20), logger: logger) {
                    inbound, outbound, _ in
                    self.state.withLock { $0.outbound = outbound }
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        guard case .text(let text) = message else { continue }
                        await self.handle(text)
                    }
                }
            } catch {
                state.withLock { $0.errors.append("websocket: \(error)") }
            }
            state.withLock { $0.closed = true }
        }
        task.withLock { $0 = reader }
        _ = try await waitFor("auth.success", timeout: .seconds(20))
    }

    func close() {
        task.withLock { $0?.cancel() }
    }

    /// `call.join`, then waits for `call.config` and `call.participants`.
    func join(conversation: String) async throws {
        state.withLock { $0.conversation = conversation }
        try await send(["type": "call.join", "id": "join", "data": ["conversationId": conversation]])
        _ = try await waitFor("call.config", timeout: .seconds(30))
        _ = try await waitFor("call.participants", timeout: .seconds(30))
    }

    /// `call.publish` with an Opus + VP8 offer; the answer's transport goes to the UDP loop.
    func publish(publisher: Int, transportCC: Bool) async throws {
        let socket = try SFUBenchSockets.shared.make()
        let audioSSRC = UInt32.random(in: 1...UInt32.max), videoSSRC = UInt32.random(in: 1...UInt32.max)
        let local = SFUBenchSDP.Local(ufrag: publishLocal.ufrag, pwd: publishLocal.password, fingerprint: fingerprint,
                                      port: socket.localAddress.port)
        let offer = SFUBenchSDP.publishOffer(local: local, sessionId: sessionId, audioSSRC: audioSSRC, videoSSRC: videoSSRC,
                                             stream: "bench\(index)", transportCC: transportCC)
        let conversation = state.withLock { $0.conversation }
        try await send(["type": "call.publish", "id": "publish", "data": [
            "conversationId": conversation, "sdp": offer,
            "tracks": [["mid": "0", "source": "microphone"], ["mid": "1", "source": "camera"]],
        ] as [String: Any]])
        let answer = try Self.data(of: try await waitFor("call.publish.answer", timeout: .seconds(30)))
        guard let sdp = answer["sdp"] as? String else { throw BenchHTTP.BenchError(description: "call.publish.answer without sdp") }
        let remote = try SFUBenchSDP.parse(sdp)
        var spec = try Self.spec(role: .publish, socket: socket, local: publishLocal, remote: remote)
        spec.publisher = publisher
        spec.audioSSRC = audioSSRC
        spec.videoSSRC = videoSSRC
        loop.submit(.add(spec))
    }

    // MARK: frames

    private func handle(_ text: String) async {
        guard let type = Self.frameType(text) else { return }
        if type == "call.subscribe.offer" {
            do {
                try await answer(text)
            } catch {
                state.withLock { $0.errors.append("answering a subscribe offer: \(error)") }
            }
            return
        }
        guard Self.awaited.contains(type) else { return }
        state.withLock {
            $0.frames[type] = text
            if type == "error" { $0.errors.append(String(text.prefix(300))) }
        }
    }

    /// Answers a subscribe offer with its revision; the first one opens the subscribe transport.
    private func answer(_ text: String) async throws {
        let data = try Self.data(of: text)
        guard let sdp = data["sdp"] as? String, let revision = data["revision"] as? Int else {
            throw BenchHTTP.BenchError(description: "call.subscribe.offer without sdp or revision")
        }
        let offer = try SFUBenchSDP.parse(sdp)
        var socket: MediaSocket?
        var port = state.withLock { $0.subscribePort }
        if port == nil {
            let made = try SFUBenchSockets.shared.make()
            socket = made
            port = made.localAddress.port
            state.withLock { $0.subscribePort = port }
        }
        let local = SFUBenchSDP.Local(ufrag: subscribeLocal.ufrag, pwd: subscribeLocal.password, fingerprint: fingerprint, port: port ?? 9)
        let answer = SFUBenchSDP.subscribeAnswer(offer: offer, local: local, sessionId: sessionId, version: revision + 1)
        let conversation = state.withLock { $0.conversation }
        try await send(["type": "call.subscribe.answer", "data": ["conversationId": conversation, "sdp": answer, "revision": revision] as [String: Any]])
        state.withLock { $0.answers += 1 }
        if let socket {
            var spec = try Self.spec(role: .subscribe, socket: socket, local: subscribeLocal, remote: offer)
            spec.floodsNacks = floodsNacks
            loop.submit(.add(spec))
        }
    }

    private static func spec(role: SFUBenchTransportSpec.Role, socket: MediaSocket, local: ICECredentials,
                             remote: SFUBenchSDP.Remote) throws -> SFUBenchTransportSpec {
        guard let server = TransportAddress(ip: remote.candidateIP, port: remote.candidatePort) else {
            throw BenchHTTP.BenchError(description: "bad candidate address \(remote.candidateIP)")
        }
        return SFUBenchTransportSpec(
            role: role, socket: socket, local: local, remote: ICECredentials(ufrag: remote.ufrag, password: remote.pwd),
            serverFingerprint: try DTLSFingerprint(parsing: remote.fingerprint), server: server)
    }

    private func send(_ frame: [String: Any]) async throws {
        let json = try JSONSerialization.data(withJSONObject: frame)
        guard let outbound = state.withLock({ $0.outbound }) else { throw BenchHTTP.BenchError(description: "WebSocket not open") }
        try await outbound.write(.text(String(decoding: json, as: UTF8.self)))
    }

    /// Waits for a frame of `type` (consuming it); an `error` frame or a closed socket fails.
    func waitFor(_ type: String, timeout: Duration) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let (frame, error, closed) = state.withLock { s -> (String?, String?, Bool) in
                let frame = s.frames.removeValue(forKey: type)
                let error = s.frames.removeValue(forKey: "error")
                return (frame, error, s.closed)
            }
            if let frame { return frame }
            if let error { throw BenchHTTP.BenchError(description: "peer \(index) waiting for \(type): \(error)") }
            if closed { throw BenchHTTP.BenchError(description: "peer \(index): WebSocket closed while waiting for \(type); \(errors)") }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw BenchHTTP.BenchError(description: "peer \(index): no \(type) within \(timeout); errors: \(errors)")
    }

    /// The frame's `type`, read without parsing the JSON (most frames are not for us).
    static func frameType(_ text: String) -> String? {
        guard let start = text.range(of: #""type":""#) else { return nil }
        let rest = text[start.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<end])
    }

    static func data(of text: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              let data = object["data"] as? [String: Any] else {
            throw BenchHTTP.BenchError(description: "unexpected frame: \(text.prefix(200))")
        }
        return data
    }
}

/// Hands out the benchmark's UDP sockets, each on a port of its own. `MediaSocket` sets
/// SO_REUSEADDR, and with it Linux may bind port 0 to a port another SO_REUSEADDR socket already
/// holds; two transports on one port would look like one 5-tuple to the server.
final class SFUBenchSockets: Sendable {
    static let shared = SFUBenchSockets()
    private let used = Mutex<Set<UInt16>>([])

    func make() throws -> MediaSocket {
        var refused: [MediaSocket] = []  // held until the end so the kernel does not hand them out again
        defer { refused.removeAll() }
        for _ in 0..<100 {
            let socket = try MediaSocket(bindAddress: "127.0.0.1", port: 0, batchSize: 16, socketBufferBytes: 1 << 20)
            if used.withLock({ $0.insert(socket.localAddress.port).inserted }) { return socket }
            refused.append(socket)
        }
        throw BenchHTTP.BenchError(description: "no unshared UDP port after 100 tries")
    }
}
