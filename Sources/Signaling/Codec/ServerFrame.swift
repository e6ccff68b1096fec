import ChatAPI
import Foundation

/// A frame to a client: `{"type", "id"?, "data"}`, encoded once and then sent as text to as
/// many connections as need it.
public struct ServerFrame: Sendable, Equatable {
    public let text: String
    /// Typing and presence: the first frames dropped for a client whose queue is half full.
    public let droppable: Bool

    public init(text: String, droppable: Bool = false) {
        self.text = text
        self.droppable = droppable
    }

    struct Wire<T: Encodable>: Encodable {
        var type: String
        var id: String?
        var data: T
    }

    public static func make(_ type: String, id: String? = nil, droppable: Bool = false, _ data: some Encodable) -> ServerFrame {
        let encoded = (try? JSONCoding.encoder.encode(Wire(type: type, id: id, data: data))) ?? Data()
        return ServerFrame(text: String(decoding: encoded, as: UTF8.self), droppable: droppable)
    }

    public static func error(id: String?, _ error: APIError) -> ServerFrame {
        make("error", id: id, error.body.error)
    }

    // MARK: payloads

    struct MessagePayload: Encodable { var message: MessageDTO }
    struct MessageRef: Encodable { var conversationId: String; var messageId: String }
    struct ConversationPayload: Encodable { var conversation: ConversationDTO }
    struct MemberPayload: Encodable { var conversationId: String; var userId: String }
    struct ReadPayload: Encodable { var conversationId: String; var userId: String; var messageId: String }
    struct TypingPayload: Encodable { var conversationId: String; var userId: String; var typing: Bool }
    struct PresencePayload: Encodable { var userId: String; var online: Bool; var lastSeenAt: Timestamp? }
    struct Empty: Encodable {}

    /// The broadcast frame of a chat event and who receives it.
    static func broadcast(_ event: ChatEvent) -> (ServerFrame, [String]) {
        switch event {
        case .loginRevoked(_, let userId):
            (error(id: nil, .unauthorized("This login has ended.")), [userId])
        case .messageNew(let message, let recipients):
            (make("message.new", MessagePayload(message: message)), recipients)
        case .messageUpdated(let message, let recipients):
            (make("message.updated", MessagePayload(message: message)), recipients)
        case .messageDeleted(let conversationId, let messageId, let recipients):
            (make("message.deleted", MessageRef(conversationId: conversationId, messageId: messageId)), recipients)
        case .readUpdated(let conversationId, let userId, let messageId, let recipients):
            (make("read.updated", ReadPayload(conversationId: conversationId, userId: userId, messageId: messageId)), recipients)
        case .conversationCreated(let conversation, let recipients):
            (make("conversation.created", ConversationPayload(conversation: conversation)), recipients)
        case .conversationUpdated(let conversation, let recipients):
            (make("conversation.updated", ConversationPayload(conversation: conversation)), recipients)
        case .memberAdded(let conversationId, let userId, let recipients):
            (make("member.added", MemberPayload(conversationId: conversationId, userId: userId)), recipients)
        case .memberRemoved(let conversationId, let userId, let recipients):
            (make("member.removed", MemberPayload(conversationId: conversationId, userId: userId)), recipients)
        }
    }
}
