/// Where the call signaling's frames go: to one connection on this instance (answers, offers,
/// what the others in a call did), or over the bus to every member of a conversation on every
/// instance (`call.state`). A protocol so `CallSignaling` can be tested with an outbox that
/// records instead of a hub, a bus and a database.
public protocol FrameOutbox: Sendable {
    /// Queues `frame` on `connection` (which cuts off a client that stopped reading).
    func send(_ frame: ServerFrame, to connection: Connection)

    /// Publishes `frame` to the conversation's members, whichever instance holds their connections.
    func sendToMembers(of conversationId: String, _ frame: ServerFrame) async
}
