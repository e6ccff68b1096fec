import ArgumentParser
import ChatAPI
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import Signaling
import HummingbirdWebSocket

/// `parley serve`: migrate, then serve the REST API and `/ws` until SIGTERM or SIGINT.
/// (The media socket of the ICE module is started by the SFU, which is not built yet.)
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
                presence: hub.presenceLookup, events: bus.eventSink())
        } catch {
            try? await database.shutdown()
            throw error
        }
        var signalingOptions = SignalingOptions()
        signalingOptions.origins = OriginPolicy(allowed: configuration.allowedOrigins)
        let signaling = SignalingServer(hub: hub, services: services, bus: bus, options: signalingOptions, logger: logger)
        await signaling.start()

        let router = ChatRouter.make(services: services, options: ChatHTTPOptions(
            authRateLimit: configuration.authRateLimit,
            trustedProxies: TrustedProxies(configuration.trustedProxies),
            origins: OriginPolicy(allowed: configuration.allowedOrigins)))
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
            services: [DatabaseService(database: database, logger: logger), signaling, app],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        try await group.run()
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
