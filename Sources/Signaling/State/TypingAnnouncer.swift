import ChatAPI
import Synchronization

/// Typing on this instance: records each connection's `typing.start` and `typing.stop` (and
/// what ends one by itself: a sent message, 6 s of silence, a closed connection), and announces
/// each change to the conversation's other members on every instance.
final class TypingAnnouncer: Sendable {
    private let tracker = Mutex(TypingTracker())
    private let conversations: ConversationService
    private let outbox: SignalingOutbox
    private let clock: WallClock

    init(conversations: ConversationService, outbox: SignalingOutbox, clock: WallClock) {
        self.conversations = conversations
        self.outbox = outbox
        self.clock = clock
    }

    func changed(_ key: TypingTracker.Key, started: Bool, connection: Connection) async {
        let now = clock.now()
        let changed = tracker.withLock { tracker in
            started ? tracker.start(key, connection: connection.id, now: now) : tracker.stop(key)
        }
        if changed { await announce(key, typing: started) }
    }

    /// Announces `typing: false` for every indicator 6 s past its last `typing.start`.
    func sweep() async {
        let now = clock.now()
        let expired = tracker.withLock { $0.expire(now: now) }
        for key in expired { await announce(key, typing: false) }
    }

    /// A closed connection stops whatever it was typing.
    func connectionClosed(_ connection: Connection) async {
        let dropped = tracker.withLock { $0.drop(connection: connection.id) }
        for key in dropped { await announce(key, typing: false) }
    }

    private func announce(_ key: TypingTracker.Key, typing: Bool) async {
        guard let members = try? await conversations.memberIds(of: key.conversationId) else { return }
        let frame = ServerFrame.make("typing", droppable: true, ServerFrame.TypingPayload(
            conversationId: key.conversationId, userId: key.userId, typing: typing))
        await outbox.publish(BusMessage(
            frame: frame, recipients: members.filter { $0 != key.userId },
            typing: .init(conversationId: key.conversationId, userId: key.userId, typing: typing)))
    }
}
