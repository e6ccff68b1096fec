import ChatAPI
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// The `/ws` endpoint: authenticates each connection, turns its frames into calls on the same
/// chat services the REST routes use, and delivers the bus's events to it. Also announces
/// presence and typing, and sweeps expired typing indicators.
public final class SignalingServer: Service, Sendable {
    public let hub: SignalingHub
    let services: ChatServices
    let bus: any PubSub
    let options: SignalingOptions
    let logger: Logger
    /// The call frames; nil on a server without media (calls are then refused).
    let calls: CallSignaling?
    private let typing = Mutex(TypingTracker())
    /// Open WebSockets per client address and per user, for the caps.
    let addressSlots = ConnectionSlots()
    let userSlots = ConnectionSlots()
    private let tasks = Mutex<[Task<Void, Never>]>([])
    /// Users whose local connection count may have crossed zero, announced one at a time.
    private let presenceChanges: AsyncStream<String>.Continuation
    private let presenceStream: AsyncStream<String>

    public init(hub: SignalingHub, services: ChatServices, bus: any PubSub, options: SignalingOptions, logger: Logger,
                calls: CallSignaling? = nil) {
        self.calls = calls
        self.hub = hub
        self.services = services
        self.bus = bus
        self.options = options
        self.logger = logger
        (presenceStream, presenceChanges) = AsyncStream<String>.makeStream()
    }

    // MARK: lifecycle

    /// Starts listening on the bus and returns once events published from now on will arrive.
    public func start() async {
        let (ready, readyContinuation) = AsyncStream<Void>.makeStream()
        let hub = self.hub, bus = self.bus, logger = self.logger
        let connectedBefore = Atomic<Bool>(false)
        let listener = Task { [self] in
            do {
                // Calls first: a removed member or revoked login leaves its call (and its
                // connection is told) before the hub closes that login's connections.
                try await bus.run(deliver: { [self] message in
                    calls?.deliver(message, server: self)
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
        let presence = Task { [self] in await announcePresenceChanges() }
        let media = Task { [self] in
            if let calls { await calls.run(server: self) }
        }
        tasks.withLock { $0 = [listener, sweeper, presence, media] }
        for await _ in ready {}
    }

    /// Runs until graceful shutdown, then stops the bus listener and the sweeper.
    public func run() async throws {
        try? await gracefulShutdown()
        stop()
    }

    public func stop() {
        presenceChanges.finish()
        calls?.finish()
        for task in tasks.withLock({ $0 }) { task.cancel() }
    }

    /// Announces `typing: false` for every indicator 6 s past its last `typing.start`.
    public func sweepTyping() async {
        let now = services.clock.now()
        let expired = typing.withLock { $0.expire(now: now) }
        for key in expired { await announceTyping(key, typing: false) }
    }

    // MARK: routing

    /// A router holding only the upgrade route; HTTP requests go to the REST router.
    public func makeRouter() -> Router<SignalingRequestContext> {
        let router = Router(context: SignalingRequestContext.self)
        let origins = options.origins
        router.ws("ws", onUpgrade: { [self] inbound, outbound, context in
            // A refused origin is answered after the handshake, with `error` forbidden and close
            // code 4403: the upgrade layer can only decline with a bare 400, and a browser shows
            // page scripts neither status anyway, while it does show the close code.
            let request = context.request
            guard origins.accepts(origin: request.headers[.origin], host: request.head.authority) else {
                try? await outbound.write(.text(ServerFrame.error(id: nil, .forbidden("This origin may not open a WebSocket here.")).text))
                await close(outbound, CloseCode.forbiddenOrigin, "origin not allowed")
                return
            }
            // WS_MAX_PER_ADDRESS counts every open socket, before authentication too. Like a
            // refused origin, a cap is answered after the handshake (error frame, close 4409).
            let address = TrustedProxies.rateLimitKey(options.trustedProxies.clientAddress(
                peer: context.requestContext.remoteAddress, forwardedFor: request.headers[.init("X-Forwarded-For")!]))
            guard addressSlots.take(address, cap: options.maxConnectionsPerAddress) else {
                await refuseOverCap(outbound, "WS_MAX_PER_ADDRESS", options.maxConnectionsPerAddress)
                return
            }
            guard let channel = context.requestContext.channel else {
                addressSlots.give(address)  // closed before its session began
                return
            }
            await session(inbound: inbound, outbound: outbound, channel: channel,
                          queryToken: request.uri.queryParameters.get("token"))
            addressSlots.give(address)
        })
        return router
    }

    // MARK: a session

    func session(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, channel: any Channel, queryToken: String?) async {
        var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
        guard let (caller, authId) = await authenticate(&messages, outbound: outbound, queryToken: queryToken) else { return }
        let user: UserRecord
        do {
            guard let found = try await services.users.find(id: caller.userId) else {
                await close(outbound, CloseCode.unauthorized, "unknown user")
                return
            }
            user = found
        } catch {
            await refuseUnavailable(outbound, id: authId, error)
            return
        }
        guard userSlots.take(caller.userId, cap: options.maxConnectionsPerUser) else {
            await refuseOverCap(outbound, "WS_MAX_PER_USER", options.maxConnectionsPerUser, id: authId)
            return
        }
        defer { userSlots.give(caller.userId) }
        let (connection, first) = hub.register(userId: caller.userId, loginId: caller.loginId, capacity: options.outboundCapacity) {
            channel.close(promise: nil)
        }
        send(ServerFrame.make("auth.success", id: authId, SessionFrames.AuthSuccess(user: user.dto(online: true, includeEmail: true))), to: connection)
        if first { presenceChanges.yield(caller.userId) }

        // A child task drains the queue while this task reads frames. When the client leaves or
        // breaks a rule, the reader ends and closes the queue, which ends the writer; when the
        // queue overflows (a client that stopped reading), the channel is closed, which ends both.
        let reader = SessionReader(server: self, caller: caller, connection: connection, outbound: outbound)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                writing: while let batch = await connection.queue.next() {
                    for buffer in batch {
                        do {
                            try await outbound.write(.custom(.init(fin: true, opcode: .text, data: buffer)))
                        } catch {
                            break writing
                        }
                    }
                }
                // A session ended by the server (its login revoked) closes with the code it was given.
                if let code = connection.queue.closeCode { await self.close(outbound, code, "login ended") }
            }
            await reader.run(&messages)
            connection.queue.close()
        }

        await calls?.connectionClosed(connection, server: self)
        let dropped = typing.withLock { $0.drop(connection: connection.id) }
        for key in dropped { await announceTyping(key, typing: false) }
        if hub.unregister(connection) { presenceChanges.yield(caller.userId) }
    }

    /// Verifies `?token=` or the first frame, which must be `auth` within the time limit.
    /// Returns the caller and the `id` of their `auth` frame.
    private func authenticate(_ messages: inout WebSocketInboundMessageStream.AsyncIterator,
                              outbound: WebSocketOutboundWriter, queryToken: String?) async -> (AuthContext, String?)? {
        var token = queryToken
        var requestId: String?
        if token == nil {
            let timeout = options.authTimeout
            let watchdog = Task {
                try await Task.sleep(for: timeout)
                try? await outbound.close(.unknown(CloseCode.authTimeout), reason: "auth timeout")
            }
            let first = try? await messages.next()
            watchdog.cancel()
            guard case .text(let text)? = first else { return nil }
            guard let frame = try? ClientFrame(parsing: text), case .auth(let presented) = frame.request else {
                await reject(outbound, id: nil, "The first frame must be auth.")
                return nil
            }
            token = presented
            requestId = frame.id
        }
        do {
            return (try await services.auth.authenticate(bearer: token ?? ""), requestId)
        } catch where StorageFailure.apiError(for: error) != nil {
            await refuseUnavailable(outbound, id: requestId, error)
            return nil
        } catch {
            await reject(outbound, id: requestId, "Invalid, expired or revoked token.")
            return nil
        }
    }

    /// The database is gone (PostgreSQL down) or failed: the login may well be fine, so the
    /// client is told to come back (`error` `unavailable`, close 1013), not that its token is bad.
    private func refuseUnavailable(_ outbound: WebSocketOutboundWriter, id: String?, _ error: any Error) async {
        logger.warning("websocket refused: database unavailable", metadata: ["error": "\(error)"])
        let failure = StorageFailure.apiError(for: error) ?? StorageFailure.databaseUnavailable
        try? await outbound.write(.text(ServerFrame.error(id: id, failure).text))
        await close(outbound, CloseCode.tryAgainLater, "try again later")
    }

    /// A connection past a cap: `error` `limit_reached` naming the setting, then close 4409.
    private func refuseOverCap(_ outbound: WebSocketOutboundWriter, _ setting: String, _ cap: Int?, id: String? = nil) async {
        let error = APIError.limitReached(setting, "At most \(cap ?? 0) WebSockets may be open at once")
        try? await outbound.write(.text(ServerFrame.error(id: id, error).text))
        await close(outbound, CloseCode.limitReached, "limit reached")
    }

    private func reject(_ outbound: WebSocketOutboundWriter, id: String?, _ message: String) async {
        try? await outbound.write(.text(ServerFrame.error(id: id, .unauthorized(message)).text))
        await close(outbound, CloseCode.unauthorized, "unauthorized")
    }

    func close(_ outbound: WebSocketOutboundWriter, _ code: UInt16, _ reason: String) async {
        try? await outbound.close(.unknown(code), reason: reason)
    }

    func send(_ frame: ServerFrame, to connection: Connection) {
        connection.offer(ByteBuffer(string: frame.text), droppable: frame.droppable)
    }

    // MARK: typing and presence

    func typingChanged(_ key: TypingTracker.Key, started: Bool, connection: Connection) async {
        let now = services.clock.now()
        let changed = typing.withLock { tracker in
            started ? tracker.start(key, connection: connection.id, now: now) : tracker.stop(key)
        }
        if changed { await announceTyping(key, typing: started) }
    }

    private func announceTyping(_ key: TypingTracker.Key, typing: Bool) async {
        guard let members = try? await services.conversationStore.memberIds(conversationId: key.conversationId) else { return }
        let frame = ServerFrame.make("typing", droppable: true, ServerFrame.TypingPayload(
            conversationId: key.conversationId, userId: key.userId, typing: typing))
        let message = BusMessage(
            frame: frame, recipients: members.filter { $0 != key.userId },
            typing: .init(conversationId: key.conversationId, userId: key.userId, typing: typing))
        await publish(message)
    }

    /// Announces presence one user change at a time, each time the state as it is then: a page
    /// reload's disconnect and reconnect, racing, can never leave a connected user shown offline.
    private func announcePresenceChanges() async {
        var announcedOnline: Set<String> = []
        for await userId in presenceStream {
            let online = hub.hasLocalConnections(userId)
            guard online != announcedOnline.contains(userId) else { continue }
            if online { announcedOnline.insert(userId) } else { announcedOnline.remove(userId) }
            await announcePresence(userId: userId, online: online)
        }
    }

    private func announcePresence(userId: String, online: Bool) async {
        let now = services.clock.now()
        try? await services.users.setLastSeen(id: userId, at: now)
        let contacts = (try? await services.conversationStore.contacts(of: userId)) ?? [userId]
        let frame = ServerFrame.make("presence", droppable: true, ServerFrame.PresencePayload(userId: userId, online: online, lastSeenAt: now))
        await publish(BusMessage(frame: frame, recipients: contacts.filter { $0 != userId },
                                 presence: .init(userId: userId, online: online, instance: hub.instanceId)))
    }

    func publish(_ message: BusMessage) async {
        do {
            try await bus.publish(message, in: nil)
        } catch {
            logger.warning("could not publish to the event bus", metadata: ["error": "\(error)"])
        }
    }
}

enum SessionFrames {
    struct AuthSuccess: Encodable { var user: UserDTO }
    struct Conversation: Encodable { var conversationId: String }
    struct RoomJoined: Encodable { var conversationId: String; var online: [String]; var typing: [String] }
}
