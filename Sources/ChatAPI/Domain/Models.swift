/// A user as other people see them (docs/protocol.md "Conventions"); `email` only on the caller's
/// own, and in search results for people who share a conversation with the caller; `role`
/// always (a client marks bots and administrators); `deactivatedAt` only on the caller's own and
/// to administrators, so nobody else learns that an account was switched off.
public struct UserDTO: Codable, Sendable, Equatable {
    public var id: String
    public var displayName: String
    public var avatarUrl: String?
    public var online: Bool
    public var lastSeenAt: Timestamp?
    public var email: String?
    public var role: AccountRole = .member
    /// Absent (not shown to this viewer), null (active) or the time of deactivation.
    public var deactivatedAt: Timestamp?? = .none

    enum CodingKeys: String, CodingKey { case id, displayName, avatarUrl, online, lastSeenAt, email, role, deactivatedAt }

    public init(id: String, displayName: String, avatarUrl: String?, online: Bool, lastSeenAt: Timestamp?, email: String?,
                role: AccountRole = .member, deactivatedAt: Timestamp?? = .none) {
        self.id = id
        self.displayName = displayName
        self.avatarUrl = avatarUrl
        self.online = online
        self.lastSeenAt = lastSeenAt
        self.email = email
        self.role = role
        self.deactivatedAt = deactivatedAt
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        displayName = try c.decode(String.self, forKey: .displayName)
        avatarUrl = try c.decodeIfPresent(String.self, forKey: .avatarUrl)
        online = try c.decode(Bool.self, forKey: .online)
        lastSeenAt = try c.decodeIfPresent(Timestamp.self, forKey: .lastSeenAt)
        email = try c.decodeIfPresent(String.self, forKey: .email)
        role = try c.decodeIfPresent(AccountRole.self, forKey: .role) ?? .member
        deactivatedAt = c.contains(.deactivatedAt) ? .some(try c.decodeIfPresent(Timestamp.self, forKey: .deactivatedAt)) : .none
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(displayName, forKey: .displayName)
        try c.encode(avatarUrl, forKey: .avatarUrl)
        try c.encode(online, forKey: .online)
        try c.encode(lastSeenAt, forKey: .lastSeenAt)
        try c.encodeIfPresent(email, forKey: .email)
        try c.encode(role, forKey: .role)
        if case .some(let time) = deactivatedAt { try c.encode(time, forKey: .deactivatedAt) }
    }
}

/// What an account is: `admin` runs the server (the `/admin` routes), `member` chats, `bot`
/// chats with an API token and never signs in with a password nor joins calls.
public enum AccountRole: String, Codable, Sendable, CaseIterable {
    case admin, member, bot
}

/// A stored message. Deleted messages keep id and order, with empty content.
///
/// `kind` is `user` for what someone (a person, a bot or a webhook) wrote and `system` for what
/// the server records (a member added, a call ended: `system` says which); a system message's
/// `sender` is the user it is recorded under (`system.actorId` when there is one).
public struct MessageDTO: Codable, Sendable, Equatable {
    public struct Sender: Codable, Sendable, Equatable {
        public var id: String
        public var displayName: String
        /// `user` (a person or a bot) or `webhook` (an incoming webhook; `id` is the webhook's).
        public var kind: SenderKind = .user

        public init(id: String, displayName: String, kind: SenderKind = .user) {
            self.id = id
            self.displayName = displayName
            self.kind = kind
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(String.self, forKey: .id)
            displayName = try c.decode(String.self, forKey: .displayName)
            kind = try c.decodeIfPresent(SenderKind.self, forKey: .kind) ?? .user
        }
    }
    public enum SenderKind: String, Codable, Sendable { case user, webhook }
    public enum Kind: String, Codable, Sendable { case user, system }

    public var id: String
    public var conversationId: String
    public var sender: Sender
    public var content: String
    public var clientMsgId: String?
    public var createdAt: Timestamp
    public var editedAt: Timestamp?
    public var deletedAt: Timestamp?
    public var kind: Kind = .user
    /// What a system message records; nil on every other.
    public var system: SystemEvent?
    /// Files sent with the message, in the order given (empty once it is deleted).
    public var attachments: [AttachmentDTO] = []

    public init(id: String, conversationId: String, sender: Sender, content: String, clientMsgId: String?,
                createdAt: Timestamp, editedAt: Timestamp?, deletedAt: Timestamp?, kind: Kind = .user, system: SystemEvent? = nil) {
        self.id = id
        self.conversationId = conversationId
        self.sender = sender
        self.content = content
        self.clientMsgId = clientMsgId
        self.createdAt = createdAt
        self.editedAt = editedAt
        self.deletedAt = deletedAt
        self.kind = kind
        self.system = system
    }

    enum CodingKeys: String, CodingKey {
        case id, conversationId, sender, content, clientMsgId, createdAt, editedAt, deletedAt, kind, system, attachments
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        conversationId = try c.decode(String.self, forKey: .conversationId)
        sender = try c.decode(Sender.self, forKey: .sender)
        content = try c.decode(String.self, forKey: .content)
        clientMsgId = try c.decodeIfPresent(String.self, forKey: .clientMsgId)
        createdAt = try c.decode(Timestamp.self, forKey: .createdAt)
        editedAt = try c.decodeIfPresent(Timestamp.self, forKey: .editedAt)
        deletedAt = try c.decodeIfPresent(Timestamp.self, forKey: .deletedAt)
        kind = try c.decodeIfPresent(Kind.self, forKey: .kind) ?? .user
        system = try c.decodeIfPresent(SystemEvent.self, forKey: .system)
        attachments = try c.decodeIfPresent([AttachmentDTO].self, forKey: .attachments) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(conversationId, forKey: .conversationId)
        try c.encode(kind, forKey: .kind)
        try c.encode(sender, forKey: .sender)
        try c.encode(content, forKey: .content)
        try c.encodeIfPresent(system, forKey: .system)
        try c.encode(clientMsgId, forKey: .clientMsgId)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(editedAt, forKey: .editedAt)
        try c.encode(deletedAt, forKey: .deletedAt)
        try c.encode(attachments, forKey: .attachments)
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
