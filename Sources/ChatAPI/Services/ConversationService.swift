import SQLKit

/// Conversations and membership, with every access rule of docs/protocol.md: a conversation the
/// caller is not in is `not_found`; renaming and member management need owner or admin.
/// Each committed change is published as a `ChatEvent` to the members it concerns.
public struct ConversationService: Sendable {
    let conversations: ConversationStore
    let users: UserStore
    let database: Database
    let clock: WallClock
    let views: ConversationViews
    let events: ChatEventSink
    let limits: ChatLimits
    let rates: UserRateLimits
    let system: SystemMessages

    public static let defaultPageSize = 100
    public static let maxPageSize = 200

    /// The caller's membership, or `not_found`.
    public func requireMember(_ conversationId: String, _ caller: AuthContext) async throws -> Membership {
        guard !conversationId.isEmpty, conversationId.utf8.count <= 64, !conversationId.utf8.contains(0),
              let membership = try await conversations.membership(conversationId: conversationId, userId: caller.userId)
        else { throw APIError.notFound("No such conversation.") }
        return membership
    }

    /// A page of the caller's conversations, most recent activity first, and the cursor of the
    /// next page (nil on the last).
    public func list(_ caller: AuthContext, limit rawLimit: String?, cursor: String?) async throws
        -> (conversations: [ConversationDTO], nextCursor: String?)
    {
        let limit = try Validate.limit(rawLimit, default: Self.defaultPageSize, cap: Self.maxPageSize)
        var after: ConversationStore.PageKey?
        if let cursor {
            guard let key = ConversationStore.PageKey(cursor: cursor) else {
                throw APIError.invalidField("cursor", "cursor must be a nextCursor this server returned.")
            }
            after = key
        }
        let page = try await conversations.page(for: caller.userId, after: after, limit: limit)
        return (page.conversations.map(views.view), page.next?.cursor)
    }

    public func get(_ conversationId: String, _ caller: AuthContext) async throws -> ConversationDTO {
        _ = try await requireMember(conversationId, caller)
        return try await view(conversationId, for: caller.userId)
    }

    func view(_ conversationId: String, for userId: String, on sql: (any SQLDatabase)? = nil) async throws -> ConversationDTO {
        guard let stored = try await conversations.conversation(conversationId, for: userId, on: sql)
        else { throw APIError.notFound("No such conversation.") }
        return views.view(stored)
    }

    /// Everyone in the conversation, in joining order: who an announcement about it goes to
    /// (typing, `call.state`). Not an access check; the announcer has made its own.
    public func memberIds(of conversationId: String) async throws -> [String] {
        try await conversations.memberIds(conversationId: conversationId)
    }

    /// Everyone who shares at least one conversation with `userId`, themself included: the
    /// audience of their presence changes.
    public func contacts(of userId: String) async throws -> [String] {
        try await conversations.contacts(of: userId)
    }

    /// Opens the DM between the caller and `userId`; the same pair always gets the same DM.
    public func openDM(with userId: String, _ caller: AuthContext) async throws -> (ConversationDTO, created: Bool) {
        try Validate.identifier(userId, field: "userId")
        guard userId != caller.userId else { throw APIError.invalidField("userId", "A DM needs another person.") }
        guard try await users.find(id: userId) != nil else { throw APIError.invalidField("userId", "No such user.") }
        let key = [caller.userId, userId].sorted().joined(separator: "|")
        if let existing = try await conversations.conversationId(dmKey: key) {
            return (try await view(existing, for: caller.userId), false)
        }
        try rates.spend(.conversation, userId: caller.userId)
        let id = Identifier.make("c"), now = clock.now(), store = conversations, limits = self.limits
        let created: ConversationDTO? = try await events.commit(database) { sql in
            try await Self.checkUserCap([caller.userId, userId], limits, store, on: sql)
            guard try await store.insert(id: id, kind: .dm, title: nil, dmKey: key,
                                         members: [(caller.userId, .member), (userId, .member)], now: now, on: sql)
            else { return (nil, []) }
            let conversation = try await view(id, for: caller.userId, on: sql)
            return (conversation, [.conversationCreated(conversation, recipients: [caller.userId, userId])])
        }
        if let created { return (created, true) }
        // Lost a race with the other person opening the same DM: theirs is the DM.
        guard let existing = try await conversations.conversationId(dmKey: key) else { throw APIError.internalError }
        return (try await view(existing, for: caller.userId), false)
    }

    public func createGroup(title: String, memberIds: [String], _ caller: AuthContext) async throws -> ConversationDTO {
        try Validate.title(title)
        for id in memberIds { try Validate.identifier(id, field: "memberIds") }
        var others: [String] = []
        for id in memberIds where id != caller.userId && !others.contains(id) { others.append(id) }
        if let cap = limits.groupMaxMembers, others.count + 1 > cap {
            throw APIError.limitReached("GROUP_MAX_MEMBERS", "A group has at most \(cap) members")
        }
        try rates.spend(.conversation, userId: caller.userId)
        let known = try await users.existing(ids: others)
        guard known.count == others.count else { throw APIError.invalidField("memberIds", "Unknown user in memberIds.") }
        let id = Identifier.make("c"), now = clock.now(), store = conversations, limits = self.limits
        let members = [(caller.userId, Role.owner)] + others.map { ($0, Role.member) }
        return try await events.commit(database) { sql in
            try await Self.checkUserCap(members.map(\.0), limits, store, on: sql)
            _ = try await store.insert(id: id, kind: .group, title: title, dmKey: nil, members: members, now: now, on: sql)
            let conversation = try await view(id, for: caller.userId, on: sql)
            return (conversation, [.conversationCreated(conversation, recipients: members.map(\.0))])
        }
    }

    /// A rename writes a line into the history (`title_changed`), so it spends the caller's
    /// message budget as a message would: renames cannot grow the history without bound.
    public func rename(_ conversationId: String, title: String, _ caller: AuthContext) async throws -> ConversationDTO {
        try rates.spend(.message, userId: caller.userId)
        let membership = try await requireMember(conversationId, caller)
        try requireGroupManager(membership, action: "rename")
        try Validate.title(title)
        let store = conversations, system = self.system, now = clock.now()
        return try await events.commit(database) { sql in
            try await store.setTitle(title, conversationId: conversationId, on: sql)
            let conversation = try await view(conversationId, for: caller.userId, on: sql)
            let (_, recorded) = try await system.record(
                SystemEvent(event: .titleChanged, actorId: caller.userId, title: title), in: conversationId,
                senderId: caller.userId, now: now, on: sql)
            return (conversation, [.conversationUpdated(conversation, recipients: conversation.members.map(\.user.id)), recorded])
        }
    }

    public func addMember(_ conversationId: String, userId: String, _ caller: AuthContext) async throws -> ConversationDTO {
        let membership = try await requireMember(conversationId, caller)
        try requireGroupManager(membership, action: "add members to")
        try Validate.identifier(userId, field: "userId")
        try rates.spend(.member, userId: caller.userId)
        guard try await users.find(id: userId) != nil else { throw APIError.invalidField("userId", "No such user.") }
        let store = conversations, now = clock.now(), limits = self.limits, system = self.system
        return try await events.commit(database) { sql in
            try await store.lockForCount(conversationId: conversationId, userIds: [], on: sql)
            let current = try await store.memberIds(conversationId: conversationId, on: sql)
            guard !current.contains(userId) else { throw APIError.conflict("conflict", "Already a member.") }
            if let cap = limits.groupMaxMembers, current.count >= cap {
                throw APIError.limitReached("GROUP_MAX_MEMBERS", "A group has at most \(cap) members")
            }
            try await Self.checkUserCap([userId], limits, store, on: sql)
            try await store.addMember(conversationId: conversationId, userId: userId, role: .member, now: now, on: sql)
            let (_, recorded) = try await system.record(
                SystemEvent(event: .memberAdded, actorId: caller.userId, userId: userId), in: conversationId,
                senderId: caller.userId, now: now, on: sql)
            let conversation = try await view(conversationId, for: caller.userId, on: sql)
            return (conversation, [.memberAdded(conversationId: conversationId, userId: userId,
                                                recipients: conversation.members.map(\.user.id)), recorded])
        }
    }

    /// Removes `userId`: owners and admins remove anyone but the owner; anyone removes
    /// themself. An owner who leaves hands ownership to the longest-standing admin or member,
    /// and the others are told of the new roles with `conversation.updated`.
    public func removeMember(_ conversationId: String, userId: String, _ caller: AuthContext) async throws {
        let membership = try await requireMember(conversationId, caller)
        guard membership.kind == .group else { throw APIError.forbidden("Nobody can leave or be removed from a DM.") }
        let store = conversations
        if userId != caller.userId {
            try requireGroupManager(membership, action: "remove members from")
            guard let target = try await store.membership(conversationId: conversationId, userId: userId) else {
                throw APIError.notFound("No such member.")
            }
            guard target.role != .owner else { throw APIError.forbidden("The owner cannot be removed.") }
        }
        let system = self.system, now = clock.now()
        try await events.commit(database) { sql in
            let recipients = try await store.memberIds(conversationId: conversationId, on: sql)
            guard recipients.contains(userId) else { throw APIError.notFound("No such member.") }
            var heir: String?
            if membership.role == .owner, userId == caller.userId {
                heir = try await store.successor(conversationId: conversationId, excluding: userId, on: sql)
                if let heir { try await store.setRole(.owner, conversationId: conversationId, userId: heir, on: sql) }
            }
            try await store.removeMember(conversationId: conversationId, userId: userId, on: sql)
            var events: [ChatEvent] = [.memberRemoved(conversationId: conversationId, userId: userId, recipients: recipients)]
            if let heir {
                let conversation = try await view(conversationId, for: heir, on: sql)
                events.append(.conversationUpdated(conversation, recipients: conversation.members.map(\.user.id)))
            }
            // Recorded after the removal, so it reaches those who remain (the last to leave a
            // group leaves no one to tell).
            if recipients.count > 1 {
                let event = userId == caller.userId
                    ? SystemEvent(event: .memberLeft, actorId: userId, userId: userId)
                    : SystemEvent(event: .memberRemoved, actorId: caller.userId, userId: userId)
                events.append(try await system.record(event, in: conversationId, senderId: caller.userId, now: now, on: sql).1)
            }
            return ((), events)
        }
    }

    /// Makes a member an admin or a plain member again (owner only): the one way to
    /// appoint an admin; documented in /openapi.yaml and docs/protocol.md "REST resources".
    public func setRole(_ conversationId: String, userId: String, role: Role, _ caller: AuthContext) async throws -> ConversationDTO {
        let membership = try await requireMember(conversationId, caller)
        guard membership.kind == .group, membership.role == .owner else {
            throw APIError.forbidden("Only a group's owner changes roles.")
        }
        guard role != .owner else { throw APIError.invalidField("role", "role must be admin or member.") }
        guard userId != caller.userId,
              try await conversations.membership(conversationId: conversationId, userId: userId) != nil
        else { throw APIError.notFound("No such member.") }
        let store = conversations
        return try await events.commit(database) { sql in
            try await store.setRole(role, conversationId: conversationId, userId: userId, on: sql)
            let conversation = try await view(conversationId, for: caller.userId, on: sql)
            return (conversation, [.conversationUpdated(conversation, recipients: conversation.members.map(\.user.id))])
        }
    }

    /// USER_MAX_CONVERSATIONS: refuses a new membership for anyone already at the cap.
    private static func checkUserCap(_ userIds: [String], _ limits: ChatLimits, _ store: ConversationStore,
                                      on sql: any SQLDatabase) async throws {
        guard let cap = limits.userMaxConversations else { return }
        try await store.lockForCount(userIds: userIds, on: sql)
        let full = userIds.count == 1
            ? (try await store.conversationCount(userId: userIds[0], on: sql) >= cap ? userIds : [])
            : try await store.usersAtCap(userIds, cap: cap, on: sql)
        guard !full.isEmpty else { return }
        throw APIError.limitReached("USER_MAX_CONVERSATIONS", "\(full.count == 1 ? "A user is" : "Users are") already in \(cap) conversations, the most allowed")
    }

    private func requireGroupManager(_ membership: Membership, action: String) throws {
        guard membership.kind == .group else { throw APIError.forbidden("You cannot \(action) a DM.") }
        guard membership.role.canManage else { throw APIError.forbidden("Only the owner or an admin can \(action) this group.") }
    }
}
