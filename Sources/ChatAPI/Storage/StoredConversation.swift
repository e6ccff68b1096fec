/// A conversation as the database holds it, from one member's side (their unread count). What
/// lives only in the running process, each member's presence and the conversation's call, is
/// not here: `ConversationViews` adds it when it makes the `ConversationDTO` clients see.
struct StoredConversation: Sendable {
    struct Member: Sendable {
        var user: UserRecord
        var role: Role
    }

    var id: String
    var kind: ConversationKind
    var title: String?
    var createdAt: Timestamp
    /// The list's sort key (and the page cursor's); not shown to clients.
    var lastActivity: Int64
    var unreadCount: Int
    var lastMessage: MessageDTO?
    /// In joining order.
    var members: [Member]
}
