import ChatAPI
import Logging
import NIOCore

/// The running server's outbox: a connection's queue for what goes to one connection, the
/// event bus for what goes to a conversation's members or a user's contacts.
public struct SignalingOutbox: FrameOutbox {
    let bus: any PubSub
    let conversations: ConversationService
    let logger: Logger

    public init(bus: any PubSub, services: ChatServices, logger: Logger) {
        self.bus = bus
        self.conversations = services.conversations
        self.logger = logger
    }

    public func send(_ frame: ServerFrame, to connection: Connection) {
        connection.offer(ByteBuffer(string: frame.text), droppable: frame.droppable)
    }

    /// Nothing is sent when the members cannot be read (the database is down): the frames that
    /// go this way describe a state the next one repeats, so a lost one is not worth failing for.
    public func sendToMembers(of conversationId: String, _ frame: ServerFrame) async {
        guard let members = try? await conversations.memberIds(of: conversationId) else { return }
        await publish(BusMessage(frame: frame, recipients: members))
    }

    /// A bus that is down loses the message (and says so in the log): the announcements sent this
    /// way are live state, and the clients resynchronise when the bus comes back.
    func publish(_ message: BusMessage) async {
        do {
            try await bus.publish(message, in: nil)
        } catch {
            logger.warning("could not publish to the event bus", metadata: ["error": "\(error)"])
        }
    }
}
