import ChatAPI

/// Announces this instance's presence changes, a user's first connection here and their last,
/// to everyone who shares a conversation with them, and records when they were last seen.
struct PresenceAnnouncer: Sendable {
    private let hub: SignalingHub
    private let services: ChatServices
    private let outbox: SignalingOutbox
    /// Users whose local connection count may have crossed zero, announced one at a time.
    private let changes: AsyncStream<String>.Continuation
    private let stream: AsyncStream<String>

    init(hub: SignalingHub, services: ChatServices, outbox: SignalingOutbox) {
        self.hub = hub
        self.services = services
        self.outbox = outbox
        (stream, changes) = AsyncStream<String>.makeStream()
    }

    /// The user's connections on this instance went from none to one, or from one to none.
    func mayHaveChanged(_ userId: String) { changes.yield(userId) }

    /// Announces presence one user change at a time, each time the state as it is then: a page
    /// reload's disconnect and reconnect, racing, can never leave a connected user shown offline.
    /// Until `finish`.
    func run() async {
        var announcedOnline: Set<String> = []
        for await userId in stream {
            let online = hub.hasLocalConnections(userId)
            guard online != announcedOnline.contains(userId) else { continue }
            if online { announcedOnline.insert(userId) } else { announcedOnline.remove(userId) }
            await announce(userId: userId, online: online)
        }
    }

    func finish() { changes.finish() }

    private func announce(userId: String, online: Bool) async {
        let now = services.clock.now()
        try? await services.users.setLastSeen(id: userId, at: now)
        let contacts = (try? await services.conversations.contacts(of: userId)) ?? [userId]
        let frame = ServerFrame.make("presence", droppable: true, ServerFrame.PresencePayload(userId: userId, online: online, lastSeenAt: now))
        await outbox.publish(BusMessage(frame: frame, recipients: contacts.filter { $0 != userId },
                                        presence: .init(userId: userId, online: online, instance: hub.instanceId)))
    }
}
