import ArgumentParser
import ChatAPI
import Foundation
import ObjectStorage
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
        let webClient = try WebClient.files(configuredRoot: configuration.webRoot)
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

        let storage = try configuration.makeStorage(jwtKey: try configuration.resolvedJWTKey())
        logger.info("attachments stored", metadata: ["in": "\(configuration.storageDescription)"])
        if case .postgres = configuration.database, case .folder = configuration.storage {
            logger.warning("attachments are kept in a folder of this machine; instances on other machines cannot serve them (use an s3:// STORAGE_URL)")
        }
        let database = try await Database.open(configuration.database, logger: logger)
        let services: ChatServices
        let bus: any PubSub
        let hub = SignalingHub()
        do {
            try await Migrations.run(on: database, logger: logger)
            if case .postgres(let url) = configuration.database {
                bus = try await PostgresPubSub(database: database, url: url, logger: logger)
            } else {
                bus = InProcessPubSub()
            }
            services = await ChatServices(
                database: database, jwtSecret: try configuration.resolvedJWTKey(), bcryptCost: configuration.bcryptCost,
                presence: hub.presenceLookup, calls: callDirectory.lookup, events: bus.eventSink(),
                limits: configuration.chatLimits, registration: configuration.registration, storage: storage)
        } catch {
            try? await database.shutdown()
            throw error
        }
        var signalingOptions = SignalingOptions()
        signalingOptions.origins = OriginPolicy(allowed: configuration.allowedOrigins)
        signalingOptions.trustedProxies = TrustedProxies(configuration.trustedProxies)
        signalingOptions.maxConnectionsPerUser = configuration.wsMaxPerUser
        signalingOptions.maxConnectionsPerAddress = configuration.wsMaxPerAddress
        let calls = CallSignaling(
            directory: callDirectory, media: media, events: mediaEvents,
            outbox: SignalingOutbox(bus: bus, services: services, logger: logger), services: services,
            iceServers: ICEServerConfiguration(stunURLs: configuration.stunURLs, turnURLs: configuration.turnURLs,
                                               turnSecret: configuration.turnSecret, turnTTL: configuration.turnTTL),
            maxParticipants: configuration.callMaxParticipants, maxCallsPerUser: configuration.callMaxPerUser,
            maxTracks: configuration.callMaxTracks, ringTimeout: .seconds(configuration.callRingTimeout), logger: logger)
        let signaling = SignalingServer(hub: hub, services: services, bus: bus, options: signalingOptions, logger: logger, calls: calls)
        await signaling.start()

        let router = ChatRouter.make(services: services, options: ChatHTTPOptions(
            authRateLimit: configuration.authRateLimit,
            trustedProxies: TrustedProxies(configuration.trustedProxies),
            origins: OriginPolicy(allowed: configuration.allowedOrigins), publicURL: configuration.publicURL))
        router.add(middleware: SecurityHeadersMiddleware(
            contentSecurityPolicy: WebClient.contentSecurityPolicy(storageOrigin: storage.browserOrigin)))
        // Innermost: only what no API route answered falls through to the files.
        router.add(middleware: WebClientMiddleware(files: webClient.files))
        logger.info("serving the web client", metadata: ["from": "\(webClient.source)", "version": "\(webClient.files.version)"])
        MetricsAccess(token: configuration.metricsToken, proxies: TrustedProxies(configuration.trustedProxies))
            .addRoute(to: router) {
                var text = [UInt8]()
                registry.emit(into: &text)
                return text
            }

        let app = Application(
            router: router,
            server: .http1WebSocketUpgrade(
                webSocketRouter: signaling.makeRouter(),
                configuration: .init(ws: .init(maxFrameSize: 1 << 20, autoPing: .enabled(timePeriod: .seconds(30))))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "parley"),
            logger: logger)
        let group = ServiceGroup(
            services: [DatabaseService(database: database, logger: logger), MediaService(media: media, logger: logger), signaling, app,
                       CallShutdownService(calls: calls), AttachmentSweeper(attachments: services.attachments, logger: logger)],
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
        let announced = media.configuration.announcedIP
        logger.info("media listening", metadata: ["udp": "\(media.port)", "announced": "\(announced)",
                                                   "from": "\(media.configuration.publicIP == nil ? "interface" : "RTC_PUBLIC_IP")"])
        if media.configuration.publicIP == nil, CheckReport.isPrivate(announced) || announced == "127.0.0.1" {
            logger.warning("announcing an address the internet cannot reach; set RTC_PUBLIC_IP on a cloud VM",
                           metadata: ["announced": "\(announced)"])
        }
        try? await gracefulShutdown()
        media.stop()
    }
}

/// Removes attachment bytes nobody may reach any more (a deleted message's, uploads no message
/// referred to within a day) once a minute, and refreshes the stored-bytes gauge.
struct AttachmentSweeper: Service {
    let attachments: AttachmentService
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let removed = try await attachments.sweep()
                if removed > 0 { logger.info("removed attachments", metadata: ["count": "\(removed)"]) }
            } catch {
                logger.warning("attachment sweep failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(60)) }
        }
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
