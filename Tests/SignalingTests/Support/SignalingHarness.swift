import ChatAPI
import ChatTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import HummingbirdWebSocket
import ICE
import Logging
import NIOCore
import SFU
import Signaling
import Testing

/// A live server (REST and `/ws`) on a loopback port over a fresh database, with the
/// in-process bus and a clock the test moves.
struct SignalingHarness: Sendable {
    let port: Int
    let clock: TestClock
    let services: ChatServices
    let server: SignalingServer
    /// The calls and the real media engine behind them, when the test asked for calls.
    let calls: CallSignaling?
    let media: MediaServer?
    /// Where the media engine's events go: a test may add one of its own.
    let mediaEvents: AsyncStream<MediaEvent>.Continuation?
    let rest: @Sendable (String, HTTPRequest.Method, HTTPFields, ByteBuffer?) async throws -> TestResponse

    func signUp(_ name: String) async throws -> (id: String, token: String, refresh: String) {
        let body = try JSONSerialization.data(withJSONObject: [
            "email": "\(name.lowercased())-\(UUID().uuidString.prefix(6))@example.com", "password": "password123", "displayName": name,
        ])
        let response = try await rest("/auth/register", .post, [.contentType: "application/json"], ByteBuffer(bytes: body))
        let json = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any] ?? [:]
        let user = json["user"] as? [String: Any] ?? [:]
        return (try #require(user["id"] as? String), try #require(json["accessToken"] as? String),
                try #require(json["refreshToken"] as? String))
    }

    @discardableResult
    func request(_ method: HTTPRequest.Method, _ path: String, token: String?, json: [String: Any]? = nil) async throws -> [String: Any] {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
        }
        let response = try await rest(path, method, headers, body)
        return (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any] ?? [:]
    }

    func group(_ token: String, members: [String], title: String = "Team") async throws -> String {
        try #require(try await request(.post, "/conversations", token: token,
                                       json: ["kind": "group", "title": title, "memberIds": members])["id"] as? String)
    }

    /// A connected, authenticated client.
    func client(_ token: String) async throws -> WSTestClient {
        let client = WSTestClient(port: port)
        try await client.authenticate(token)
        return client
    }
}

/// The call signaling over a real media engine on a loopback UDP port, when `limit` asks for calls.
private func makeCalls(_ limit: CallLimit?, directory calls: CallDirectory, services: ChatServices, bus: any PubSub,
                       logger: Logger) throws -> (CallSignaling?, MediaServer?, AsyncStream<MediaEvent>.Continuation?) {
    guard let limit else { return (nil, nil, nil) }
    var configuration = MediaTransportConfiguration()
    configuration.port = 0
    configuration.bindAddress = "127.0.0.1"
    configuration.publicIP = "127.0.0.1"
    configuration.consentTimeout = limit.consentTimeout
    let (events, sink) = AsyncStream<MediaEvent>.makeStream()
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-call-\(UUID().uuidString)").path
    let media = try MediaServer(configuration: configuration, certificateDirectory: directory) { sink.yield($0) }
    media.start()
    let signaling = CallSignaling(
        directory: calls, media: media, events: events, outbox: SignalingOutbox(bus: bus, services: services, logger: logger),
        services: services, iceServers: ICEServerConfiguration(), maxParticipants: 16, maxCallsPerUser: limit.perUser,
        clock: services.clock, logger: logger)
    return (signaling, media, sink)
}

/// The calls of a test server: how many calls one user may be in at once (`CALL_MAX_PER_USER`;
/// nil: off), and how long a media transport lasts without ICE consent.
struct CallLimit: Sendable {
    var perUser: Int?
    var consentTimeout: Duration = ConsentTimer.defaultTimeout
    static let standard = CallLimit(perUser: 2)
}

extension SignalingOptions {
    /// Options for tests: typing is swept by hand after moving the clock.
    static func test(_ configure: (inout SignalingOptions) -> Void = { _ in }) -> SignalingOptions {
        var options = SignalingOptions()
        options.typingSweepInterval = .seconds(3600)
        configure(&options)
        return options
    }
}

/// With `calls`, the server has a real media engine on a loopback UDP port and the call
/// signaling, limited to `calls` calls per user.
func withSignaling(_ backend: TestBackend = .sqlite, options: SignalingOptions = .test(), calls callLimit: CallLimit? = nil,
                   limits: ChatLimits = .unlimited,
                   _ body: @Sendable (SignalingHarness) async throws -> Void) async throws {
    let database = try await backend.makeDatabase()
    let clock = TestClock()
    let bus = InProcessPubSub()
    let hub = SignalingHub()
    let directory = CallDirectory()
    let services = await ChatServices(
        database: database, jwtSecret: "test-secret-that-is-at-least-32-bytes-long", bcryptCost: 4,
        clock: clock.wallClock, presence: hub.presenceLookup, calls: callLimit == nil ? .none : directory.lookup, events: bus.eventSink(),
        limits: limits, registration: .open)
    var logger = Logger(label: "signaling-test")
    logger.logLevel = .warning
    let (calls, media, mediaEvents) = try makeCalls(callLimit, directory: directory, services: services, bus: bus, logger: logger)
    defer { media?.stop() }
    let server = SignalingServer(hub: hub, services: services, bus: bus, options: options, logger: logger, calls: calls)
    await server.start()
    let app = Application(
        router: ChatRouter.make(services: services, options: ChatHTTPOptions(authRateLimit: nil)),
        server: .http1WebSocketUpgrade(webSocketRouter: server.makeRouter(),
                                       configuration: .init(ws: .init(maxFrameSize: 1 << 20, autoPing: .disabled))),
        configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        logger: logger)
    do {
        try await app.test(.live) { client in
            let harness = SignalingHarness(
                port: try #require(client.port), clock: clock, services: services, server: server, calls: calls, media: media, mediaEvents: mediaEvents,
                rest: { uri, method, headers, body in try await client.execute(uri: uri, method: method, headers: headers, body: body) })
            try await body(harness)
        }
    } catch {
        server.stop()
        try? await database.shutdown()
        throw error
    }
    server.stop()
    try await database.shutdown()
}
