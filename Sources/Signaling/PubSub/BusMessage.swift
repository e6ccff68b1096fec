import ChatAPI

/// What travels between Parley instances: one encoded frame, who should get it, and the
/// bookkeeping every instance needs to keep its view of typing and presence in step.
public struct BusMessage: Codable, Sendable, Equatable {
    public var frame: String
    public var droppable: Bool
    public var recipients: [String]
    public var typing: TypingNote?
    public var presence: PresenceNote?
    /// A login that ended: its connections get the frame and are closed with 4401; nobody else is sent anything.
    public var revokedLogin: String?
    /// A member removed from (or leaving) a conversation: every instance ends that user's part
    /// in the conversation's call, if it hosts it.
    public var removedMember: MemberNote?

    public struct TypingNote: Codable, Sendable, Equatable {
        public var conversationId: String
        public var userId: String
        public var typing: Bool
    }

    public struct MemberNote: Codable, Sendable, Equatable {
        public var conversationId: String
        public var userId: String
    }

    /// One instance's count of a user's connections went from 0 to 1 (online) or 1 to 0.
    public struct PresenceNote: Codable, Sendable, Equatable {
        public var userId: String
        public var online: Bool
        public var instance: String
    }

    public init(frame: ServerFrame, recipients: [String], typing: TypingNote? = nil, presence: PresenceNote? = nil) {
        self.frame = frame.text
        self.droppable = frame.droppable
        self.recipients = recipients
        self.typing = typing
        self.presence = presence
    }

    public init(_ event: ChatEvent) {
        let (frame, recipients) = ServerFrame.broadcast(event)
        self.init(frame: frame, recipients: recipients)
        switch event {
        case .loginRevoked(let loginId, _): revokedLogin = loginId
        case .memberRemoved(let conversationId, let userId, _): removedMember = MemberNote(conversationId: conversationId, userId: userId)
        default: break
        }
    }

    var serverFrame: ServerFrame { ServerFrame(text: frame, droppable: droppable) }
}
