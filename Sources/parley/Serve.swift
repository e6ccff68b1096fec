import ArgumentParser
import ChatAPI
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import SFU
import ICE
import Signaling
import HummingbirdWebSocket

/// `parley serve`: migrate, then serve the REST API, `/ws` and the SFU's media port until
/// SIGTERM or SIGINT.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server (the default).")

    func run() async throws {
        let configuration = try loadConfiguration()
        let logger = makeLogger(configuration, label: "parley")
        if configuration.bcryptCost < 12 {
            logger.warning("BCRYPT_COST below 12 weakens stored passwords; use it only for tests and benchmarks",
                           metadata: ["cost": "\(configuration.bcryptCost)"])
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        var mediaConfiguration = MediaTransportConfiguration()
        mediaConfiguration.port = UInt16(configuration.rtcUDPPort)
        mediaConfiguration.publicIP = configuration.rtcPublicIP
        mediaConfiguration.iceTCPEnabled = configuration.iceTCP
        let (mediaEvents, mediaEventSink) = AsyncStream<MediaEvent>.makeStream()
        let media = try MediaServer(configuration: mediaConfiguration, certificateDirectory: configuration.dataDirectory) {
            mediaEventSink.yield($0)
        }
        let callDirectory = CallDirectory()

        let database = try await Database.open(configuration.database, logger: logger)
        let services: ChatServices
        let bus: any PubSub
        let hub = SignalingHub()
        do {
            try await Migrations.run(on: database, logger: logger)
            if case .postgres(let url) = configuration.database {
                bus = try PostgresPubSub(database: database, url: url, logger: logger)
            } else {
                bus = InProcessPubSub()
            }
            services = await ChatServices(
                database: database, jwtSecret: try configuration.resolvedJWTKey(), bcryptCost: configuration.bcryptCost,
                presence: hub.presenceLookup, calls: callDirectory.lookup, events: bus.eventSink())
        } catch {
            try? await database.shutdown()
            throw error
        }
        var signalingOptions = SignalingOptions()
        signalingOptions.origins = OriginPolicy(allowed: configuration.allowedOrigins)
        let calls = CallSignaling(
            directory: callDirectory, media: media, events: mediaEvents,
            iceServers: IceServerConfiguration(stunURLs: configuration.stunURLs, turnURLs: configuration.turnURLs,
                                               turnSecret: configuration.turnSecret, turnTTL: configuration.turnTTL),
            maxParticipants: configuration.callMaxParticipants, maxTracks: configuration.callMaxTracks)
        let signaling = SignalingServer(hub: hub, services: services, bus: bus, options: signalingOptions, logger: logger, calls: calls)
        await signaling.start()

        let router = ChatRouter.make(services: services, options: ChatHTTPOptions(
            authRateLimit: configuration.authRateLimit,
            trustedProxies: TrustedProxies(configuration.trustedProxies),
            origins: OriginPolicy(allowed: configuration.allowedOrigins)))
        router.add(middleware: SecurityHeadersMiddleware())
        if let webRoot = WebClient.root(configured: configuration.webRoot) {
            // Innermost: only what no API route answered falls through to the files.
            let files = try WebClientFiles(root: webRoot)
            router.add(middleware: WebClientMiddleware(files: files))
            logger.info("serving the web client", metadata: ["root": "\(webRoot)", "version": "\(files.version)"])
        } else {
            logger.warning("no web client found (set WEB_ROOT to the web folder); serving the API only")
        }
        router.get("metrics") { _, _ in
            var text = [UInt8]()
            registry.emit(into: &text)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: .init(bytes: text)))
        }

        let app = Application(
            router: router,
            server: .http1WebSocketUpgrade(
                webSocketRouter: signaling.makeRouter(),
                configuration: .init(ws: .init(maxFrameSize: 1 << 20, autoPing: .enabled(timePeriod: .seconds(30))))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "parley"),
            logger: logger)
        let group = ServiceGroup(
            services: [DatabaseService(database: database, logger: logger), MediaService(media: media, logger: logger), signaling, app],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        try await group.run()
    }
}

/// Runs the media I/O thread while the server runs; stopped after the HTTP server and the
/// WebSockets (ServiceGroup stops in reverse order).
struct MediaService: Service {
    let media: MediaServer
    let logger: Logger

    func run() async throws {
        media.start()
        logger.info("media listening", metadata: ["udp": "\(media.port)", "announced": "\(media.configuration.announcedIP)"])
        try? await gracefulShutdown()
        media.stop()
    }
}

/// Keeps the database open while the server runs and closes it last: ServiceGroup stops
/// services in reverse order, so the HTTP server has finished its in-flight requests first.
struct DatabaseService: Service {
    let database: Database
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        try await database.shutdown()
        logger.info("database closed")
    }
}
