/// A user as other people see them (docs/protocol.md "Conventions"); `email` only on the caller's
/// own, and in search results for people who share a conversation with the caller.
public struct UserDTO: Codable, Sendable, Equatable {
    public var id: String
    public var displayName: String
    public var avatarUrl: String?
    public var online: Bool
    public var lastSeenAt: Timestamp?
    public var email: String?

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(displayName, forKey: .displayName)
        try c.encode(avatarUrl, forKey: .avatarUrl)
        try c.encode(online, forKey: .online)
        try c.encode(lastSeenAt, forKey: .lastSeenAt)
        try c.encodeIfPresent(email, forKey: .email)
    }
}

/// A stored message. Deleted messages keep id and order, with empty content.
public struct MessageDTO: Codable, Sendable, Equatable {
    public struct Sender: Codable, Sendable, Equatable {
        public var id: String
        public var displayName: String
    }
    public var id: String
    public var conversationId: String
    public var sender: Sender
    public var content: String
    public var clientMsgId: String?
    public var createdAt: Timestamp
    public var editedAt: Timestamp?
    public var deletedAt: Timestamp?

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(conversationId, forKey: .conversationId)
        try c.encode(sender, forKey: .sender)
        try c.encode(content, forKey: .content)
        try c.encode(clientMsgId, forKey: .clientMsgId)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(editedAt, forKey: .editedAt)
        try c.encode(deletedAt, forKey: .deletedAt)
    }
}

public enum Role: String, Codable, Sendable, Comparable {
    case owner, admin, member

    /// Owners and admins manage a group's title and members.
    public var canManage: Bool { self != .member }

    private var rank: Int { switch self { case .owner: 2; case .admin: 1; case .member: 0 } }
    public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }
}

public enum ConversationKind: String, Codable, Sendable {
    case dm, group
}

public struct MemberDTO: Codable, Sendable, Equatable {
    public var user: UserDTO
    public var role: Role
}

/// The call summary embedded in a conversation.
public struct CallSummary: Codable, Sendable, Equatable {
    public var active: Bool
    public var participants: [String]
    public init(active: Bool, participants: [String]) {
        self.active = active
        self.participants = participants
    }
    public static let none = CallSummary(active: false, participants: [])
}

public struct ConversationDTO: Codable, Sendable, Equatable {
    public var id: String
    public var kind: ConversationKind
    public var title: String?
    public var members: [MemberDTO]
    public var createdAt: Timestamp
    public var lastMessage: MessageDTO?
    public var unreadCount: Int
    public var call: CallSummary

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(kind, forKey: .kind)
        try c.encode(title, forKey: .title)
        try c.encode(members, forKey: .members)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(lastMessage, forKey: .lastMessage)
        try c.encode(unreadCount, forKey: .unreadCount)
        try c.encode(call, forKey: .call)
    }
}

/// A track in a call, as docs/protocol.md "Conventions" defines it.
public struct TrackDTO: Codable, Sendable, Equatable {
    public var trackId: String
    public var kind: String
    public var source: String
    public var muted: Bool
    public init(trackId: String, kind: String, source: String, muted: Bool) {
        self.trackId = trackId
        self.kind = kind
        self.source = source
        self.muted = muted
    }
}

public struct CallStateDTO: Codable, Sendable, Equatable {
    public struct Participant: Codable, Sendable, Equatable {
        public var userId: String
        public var tracks: [TrackDTO]
        public init(userId: String, tracks: [TrackDTO]) {
            self.userId = userId
            self.tracks = tracks
        }
    }
    public var active: Bool
    public var participants: [Participant]
    public init(active: Bool, participants: [Participant]) {
        self.active = active
        self.participants = participants
    }
}
