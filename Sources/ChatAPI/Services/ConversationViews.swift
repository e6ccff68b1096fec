/// Makes the conversation view of docs/protocol.md "Conventions" from a stored conversation:
/// each member with their presence now, and the call as it is now. Kept out of the store so the
/// store returns only what the database holds, and the live state is read in one place.
struct ConversationViews: Sendable {
    let presence: PresenceLookup
    let calls: CallLookup

    func view(_ stored: StoredConversation) -> ConversationDTO {
        ConversationDTO(
            id: stored.id, kind: stored.kind, title: stored.title,
            // Fellow members share this conversation with the viewer: their presence shows.
            members: stored.members.map { MemberDTO(user: $0.user.dto(online: presence.isOnline($0.user.id)), role: $0.role) },
            createdAt: stored.createdAt, lastMessage: stored.lastMessage, unreadCount: stored.unreadCount,
            call: calls.summary(stored.id))
    }
}
