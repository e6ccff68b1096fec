import SQLKit

/// Records system messages (docs/protocol.md "System messages"): a line in the history for a
/// member added, removed or leaving, a title change, a call started or ended. Each is written
/// inside the transaction of the change it records and announced with it as `message.new`, so
/// history and live clients agree on what happened and in which order.
struct SystemMessages: Sendable {
    let messages: MessageStore
    let conversations: ConversationStore
    let users: UserStore

    /// Stores `event` in the conversation, recorded under `senderId` (the actor, or for a call's
    /// end the user who started it), and returns the message with the event announcing it.
    /// Touches the conversation first, which takes its row lock as a send does, so sequence
    /// numbers stay in commit order.
    func record(_ event: SystemEvent, in conversationId: String, senderId: String, now: Timestamp,
                on sql: any SQLDatabase) async throws -> (MessageDTO, ChatEvent) {
        try await conversations.touch(conversationId: conversationId, at: now, on: sql)
        func name(_ id: String?) async throws -> String? {
            guard let id else { return nil }
            return try await users.find(id: id, on: sql)?.displayName
        }
        let content = event.summary(actorName: try await name(event.actorId), userName: try await name(event.userId))
        let senderName = try await name(senderId)
        let (seq, _) = try await messages.insert(
            conversationId: conversationId, senderId: senderId, content: content, clientMsgId: nil, now: now,
            origin: .init(kind: .system, system: event), on: sql)
        let message = MessageDTO(
            id: MessageID.format(seq), conversationId: conversationId,
            sender: .init(id: senderId, displayName: senderName ?? ""), content: content,
            clientMsgId: nil, createdAt: now, editedAt: nil, deletedAt: nil, kind: .system, system: event)
        let recipients = try await conversations.memberIds(conversationId: conversationId, on: sql)
        return (message, .messageNew(message, recipients: recipients))
    }
}
