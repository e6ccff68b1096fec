import ChatAPI
import Metrics
import NIOCore
import Synchronization

/// One authenticated WebSocket connection as the hub sees it: who it is and its queue.
public final class Connection: Sendable {
    public let id: UInt64
    public let userId: String
    public let loginId: String
    public let queue: OutboundQueue
    /// Cuts the connection off at once, even while a write to it is stalled.
    let terminate: @Sendable () -> Void

    init(id: UInt64, userId: String, loginId: String, capacity: Int, terminate: @escaping @Sendable () -> Void) {
        self.id = id
        self.userId = userId
        self.loginId = loginId
        self.queue = OutboundQueue(capacity: capacity)
        self.terminate = terminate
    }

    /// Queues a frame; a queue that overflows means a client that stopped reading, which is cut off.
    @discardableResult
    func offer(_ buffer: ByteBuffer, droppable: Bool) -> OutboundQueue.Offer {
        let result = queue.offer(buffer, droppable: droppable)
        if result == .overflow { terminate() }
        return result
    }
}

/// This instance's connections, and its view of typing and presence across all instances.
/// `deliver` fans a bus message out to the local connections of its recipients; the frame
/// was encoded once, and each connection's queue gets the same buffer.
public final class SignalingHub: Sendable {
    public let instanceId: String

    private struct State {
        var connections: [String: [UInt64: Connection]] = [:]
        var typing: [String: Set<String>] = [:]
        var presence = PresenceView()
        var nextId: UInt64 = 1
        var total = 0
    }
    private let state = Mutex(State())

    private let connectionsGauge = Gauge(label: "parley_ws_connections")
    private let deliveredCounter = Counter(label: "parley_ws_frames_delivered_total")
    private let droppedCounter = Counter(label: "parley_ws_frames_dropped_total")
    private let slowConsumerCounter = Counter(label: "parley_ws_slow_consumer_disconnects_total")
    private let queuedGauge = Gauge(label: "parley_ws_queued_frames")

    public init(instanceId: String = Identifier.make("i")) {
        self.instanceId = instanceId
    }

    /// Adds a connection; true when it is its user's first on this instance.
    func register(userId: String, loginId: String, capacity: Int, terminate: @escaping @Sendable () -> Void) -> (Connection, first: Bool) {
        let (connection, first, total) = state.withLock { state in
            let connection = Connection(id: state.nextId, userId: userId, loginId: loginId, capacity: capacity, terminate: terminate)
            state.nextId += 1
            let first = state.connections[userId]?.isEmpty ?? true
            state.connections[userId, default: [:]][connection.id] = connection
            state.total += 1
            return (connection, first, state.total)
        }
        connectionsGauge.record(total)
        return (connection, first)
    }

    /// Removes a connection; true when it was its user's last on this instance.
    func unregister(_ connection: Connection) -> Bool {
        connection.queue.close()
        let (last, total) = state.withLock { state in
            if state.connections[connection.userId]?.removeValue(forKey: connection.id) != nil { state.total -= 1 }
            let last = state.connections[connection.userId]?.isEmpty ?? true
            if last { state.connections[connection.userId] = nil }
            return (last, state.total)
        }
        connectionsGauge.record(total)
        return last
    }

    /// Frames waiting in every connection's outbound queue, now. Recorded as the
    /// `parley_ws_queued_frames` gauge by `sampleQueuedFrames` (the signaling server's sweeper
    /// calls it), so memory held for slow clients is visible in production.
    public var queuedFrames: Int {
        let connections = state.withLock { state in state.connections.values.flatMap(\.values) }
        return connections.reduce(0) { $0 + $1.queue.count }
    }

    func sampleQueuedFrames() { queuedGauge.record(queuedFrames) }

    /// Applies a bus message to the views and queues its frame for local recipients.
    public func deliver(_ message: BusMessage) {
        let targets: [Connection] = state.withLock { state in
            if let note = message.typing {
                if note.typing {
                    state.typing[note.conversationId, default: []].insert(note.userId)
                } else {
                    state.typing[note.conversationId]?.remove(note.userId)
                    if state.typing[note.conversationId]?.isEmpty == true { state.typing[note.conversationId] = nil }
                }
            }
            if let note = message.presence,
               !state.presence.apply(userId: note.userId, instance: note.instance, online: note.online) {
                return []  // Another instance still holds (or already held) this user: no change to announce.
            }
            var targets: [Connection] = []
            for userId in message.recipients {
                if let connections = state.connections[userId] { targets.append(contentsOf: connections.values) }
            }
            if let login = message.revokedLogin { targets.removeAll { $0.loginId != login } }
            return targets
        }
        guard !targets.isEmpty else { return }
        if message.revokedLogin != nil {
            for connection in targets {
                connection.offer(ByteBuffer(string: message.frame), droppable: false)
                connection.queue.close(code: CloseCode.unauthorized)
            }
            return
        }
        let buffer = ByteBuffer(string: message.frame)
        var delivered = 0, dropped = 0
        for connection in targets {
            switch connection.offer(buffer, droppable: message.droppable) {
            case .queued: delivered += 1
            case .dropped: dropped += 1
            case .overflow: slowConsumerCounter.increment()
            case .closed: break
            }
        }
        if delivered > 0 { deliveredCounter.increment(by: delivered) }
        if dropped > 0 { droppedCounter.increment(by: dropped) }
    }

    /// Closes every connection with `code` once what is queued for it is written.
    func closeAll(code: UInt16) {
        let all = state.withLock { $0.connections.values.flatMap(\.values) }
        for connection in all { connection.queue.close(code: code) }
    }

    /// Whether this instance holds a connection of the user right now.
    func hasLocalConnections(_ userId: String) -> Bool { state.withLock { $0.connections[userId] != nil } }

    public func isOnline(_ userId: String) -> Bool { state.withLock { $0.presence.isOnline(userId) } }

    public var presenceLookup: PresenceLookup { PresenceLookup { [self] in isOnline($0) } }

    public func typingUsers(in conversationId: String) -> Set<String> {
        state.withLock { $0.typing[conversationId] ?? [] }
    }

    public var connectionCount: Int { state.withLock { $0.total } }
}
