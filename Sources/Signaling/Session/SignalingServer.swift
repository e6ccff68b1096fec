import ChatAPI
import Hummingbird
import HummingbirdWebSocket
import Logging
import ServiceLifecycle
import Synchronization

/// The `/ws` endpoint's lifecycle: listens on the bus (delivering to the calls and the hub),
/// runs the sweeper, the presence announcer and the calls' media events while the server runs,
/// and routes each upgrade to a session (`WebSocketSessions`) once its origin and address pass.
public final class SignalingServer: Service, Sendable {
    public let hub: SignalingHub
    let bus: any PubSub
    let options: SignalingOptions
    let logger: Logger
    let sessions: WebSocketSessions
    /// Open WebSockets per client address, for WS_MAX_PER_ADDRESS (counted before authentication).
    let addressSlots = ConnectionSlots()
    private let tasks = Mutex<[Task<Void, Never>]>([])

    public init(hub: SignalingHub, services: ChatServices, bus: any PubSub, options: SignalingOptions, logger: Logger,
                calls: CallSignaling? = nil) {
        self.hub = hub
        self.bus = bus
        self.options = options
        self.logger = logger
        let outbox = SignalingOutbox(bus: bus, services: services, logger: logger)
        sessions = WebSocketSessions(
            hub: hub, services: services, options: options, logger: logger, calls: calls, outbox: outbox,
            typing: TypingAnnouncer(conversations: services.conversations, outbox: outbox, clock: services.clock),
            presence: PresenceAnnouncer(hub: hub, services: services, outbox: outbox))
    }

    /// Starts listening on the bus and returns once events published from now on will arrive.
    public func start() async {
        let (ready, readyContinuation) = AsyncStream<Void>.makeStream()
        let hub = self.hub, bus = self.bus, logger = self.logger, calls = sessions.calls, presence = sessions.presence
        let connectedBefore = Atomic<Bool>(false)
        let listener = Task {
            do {
                // Calls first: a removed member or revoked login leaves its call (and its
                // connection is told) before the hub closes that login's connections.
                try await bus.run(deliver: { message in
                    calls?.deliver(message)
                    hub.deliver(message)
                }, ready: {
                    if connectedBefore.exchange(true, ordering: .relaxed) {
                        // Events may have been lost while the bus was down: every client
                        // reconnects (1012, service restart) and fetches what it missed.
                        logger.warning("event bus reconnected; closing WebSockets so that clients resynchronise")
                        hub.closeAll(code: CloseCode.serviceRestart)
                    }
                    readyContinuation.finish()
                })
            } catch {
                logger.error("event bus stopped", metadata: ["error": "\(error)"])
            }
            readyContinuation.finish()
        }
        let sweeper = Task { [self] in
            var lastBusSweep = ContinuousClock.now
            var lastSample = ContinuousClock.now
            while !Task.isCancelled {
                try? await Task.sleep(for: options.typingSweepInterval)
                await sweepTyping()
                if lastSample.duration(to: .now) > .seconds(5) {
                    hub.sampleQueuedFrames()
                    lastSample = .now
                }
                if lastBusSweep.duration(to: .now) > .seconds(60) {
                    await bus.sweep()
                    lastBusSweep = .now
                }
            }
        }
        let presenceTask = Task { await presence.run() }
        let media = Task { if let calls { await calls.run() } }
        tasks.withLock { $0 = [listener, sweeper, presenceTask, media] }
        for await _ in ready {}
    }

    /// Runs until graceful shutdown, then stops the bus listener and the sweeper.
    public func run() async throws {
        try? await gracefulShutdown()
        stop()
    }

    public func stop() {
        sessions.presence.finish()
        sessions.calls?.finish()
        for task in tasks.withLock({ $0 }) { task.cancel() }
    }

    /// Announces `typing: false` for every indicator 6 s past its last `typing.start`.
    public func sweepTyping() async {
        await sessions.typing.sweep()
    }

    /// A router holding only the upgrade route; HTTP requests go to the REST router.
    public func makeRouter() -> Router<SignalingRequestContext> {
        let router = Router(context: SignalingRequestContext.self)
        let origins = options.origins
        router.ws("ws", onUpgrade: { [self] inbound, outbound, context in
            let request = context.request
            guard origins.accepts(origin: request.headers[.origin], host: request.head.authority) else {
                await outbound.refuse(.forbidden("This origin may not open a WebSocket here."), id: nil,
                                      code: CloseCode.forbiddenOrigin, reason: "origin not allowed")
                return
            }
            // WS_MAX_PER_ADDRESS counts every open socket, before authentication too.
            let address = TrustedProxies.rateLimitKey(options.trustedProxies.clientAddress(
                peer: context.requestContext.remoteAddress, forwardedFor: request.headers[.init("X-Forwarded-For")!]))
            guard addressSlots.take(address, cap: options.maxConnectionsPerAddress) else {
                await outbound.refuseOverCap("WS_MAX_PER_ADDRESS", options.maxConnectionsPerAddress)
                return
            }
            guard let channel = context.requestContext.channel else {
                addressSlots.give(address)  // closed before its session began
                return
            }
            await sessions.run(inbound: inbound, outbound: outbound, channel: channel,
                               queryToken: request.uri.queryParameters.get("token"))
            addressSlots.give(address)
        })
        return router
    }
}
