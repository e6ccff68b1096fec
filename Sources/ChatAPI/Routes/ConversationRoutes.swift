import Hummingbird

/// `/conversations/...`: conversations, members, messages, read markers and the live call.
/// Membership is checked once, by the service each route calls: a body is decoded first, and
/// a malformed one gets the same 400 whether or not the conversation exists, so nothing leaks.
public struct ConversationRoutes: Sendable {
    let conversations: ConversationService
    let messages: MessageService
    let calls: CallLookup

    struct CreateBody: Decodable {
        var kind: ConversationKind
        var userId: String?
        var title: String?
        var memberIds: [String]?
    }
    struct TitleBody: Decodable { var title: String }
    struct UserBody: Decodable { var userId: String }
    struct RoleBody: Decodable { var role: Role }
    struct ContentBody: Decodable { var content: String; var clientMsgId: String?; var attachmentIds: [String]? }
    struct EditBody: Decodable { var content: String }
    struct ReadBody: Decodable { var messageId: String }
    struct ConversationList: Encodable {
        var conversations: [ConversationDTO]
        var nextCursor: String?
        enum CodingKeys: String, CodingKey { case conversations, nextCursor }
        /// `nextCursor` is always present: null on the last page.
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(conversations, forKey: .conversations)
            try c.encode(nextCursor, forKey: .nextCursor)
        }
    }
    struct MessagePage: Encodable { var messages: [MessageDTO]; var hasMore: Bool }

    public func add(to group: RouterGroup<ParleyRequestContext>) {
        group.get { request, context in
            let query = request.uri.queryParameters
            let page = try await conversations.list(context.requireCaller(), limit: query.get("limit"), cursor: query.get("cursor"))
            return try jsonResponse(ConversationList(conversations: page.conversations, nextCursor: page.nextCursor))
        }
        group.post { request, context in
            let caller = try context.requireCaller()
            let body = try await JSONBody.decode(CreateBody.self, from: request)
            switch body.kind {
            case .dm:
                guard let userId = body.userId else { throw APIError.invalidField("userId", "userId is required for a DM.") }
                let (conversation, created) = try await conversations.openDM(with: userId, caller)
                return try jsonResponse(conversation, status: created ? .created : .ok)
            case .group:
                guard let title = body.title else { throw APIError.invalidField("title", "title is required for a group.") }
                let conversation = try await conversations.createGroup(title: title, memberIds: body.memberIds ?? [], caller)
                return try jsonResponse(conversation, status: .created)
            }
        }
        group.get(":id") { _, context in
            try jsonResponse(try await conversations.get(context.parameters.path("id"), context.requireCaller()))
        }
        group.patch(":id") { request, context in
            let caller = try context.requireCaller()
            let id = try context.parameters.path("id")
            let body = try await JSONBody.decode(TitleBody.self, from: request)
            return try jsonResponse(try await conversations.rename(id, title: body.title, caller))
        }
        group.post(":id/members") { request, context in
            let caller = try context.requireCaller()
            let id = try context.parameters.path("id")
            let body = try await JSONBody.decode(UserBody.self, from: request)
            return try jsonResponse(try await conversations.addMember(id, userId: body.userId, caller), status: .created)
        }
        group.patch(":id/members/:userId") { request, context in
            let caller = try context.requireCaller()
            let id = try context.parameters.path("id")
            let body = try await JSONBody.decode(RoleBody.self, from: request)
            return try jsonResponse(try await conversations.setRole(
                id, userId: context.parameters.path("userId"), role: body.role, caller))
        }
        group.delete(":id/members/:userId") { _, context in
            try await conversations.removeMember(
                context.parameters.path("id"), userId: context.parameters.path("userId"), context.requireCaller())
            return Response.noContent
        }
        group.get(":id/messages") { request, context in
            let query = request.uri.queryParameters
            let page = try await messages.page(
                context.parameters.path("id"), before: query.get("before"), after: query.get("after"),
                limit: query.get("limit"), context.requireCaller())
            return try jsonResponse(MessagePage(messages: page.messages, hasMore: page.hasMore))
        }
        group.post(":id/messages") { request, context in
            let caller = try context.requireCaller()
            let id = try context.parameters.path("id")
            let body = try await JSONBody.decode(ContentBody.self, from: request)
            let (message, created) = try await messages.send(
                id, content: body.content, clientMsgId: body.clientMsgId, attachmentIds: body.attachmentIds ?? [], caller)
            return try jsonResponse(message, status: created ? .created : .ok)
        }
        group.patch(":id/messages/:msgId") { request, context in
            let caller = try context.requireCaller()
            let id = try context.parameters.path("id")
            let body = try await JSONBody.decode(EditBody.self, from: request)
            return try jsonResponse(try await messages.edit(
                id, messageId: context.parameters.path("msgId"), content: body.content, caller))
        }
        group.delete(":id/messages/:msgId") { _, context in
            try await messages.delete(context.parameters.path("id"), messageId: context.parameters.path("msgId"), context.requireCaller())
            return Response.noContent
        }
        group.post(":id/read") { request, context in
            let caller = try context.requireCaller()
            let id = try context.parameters.path("id")
            let body = try await JSONBody.decode(ReadBody.self, from: request)
            try await messages.markRead(id, messageId: body.messageId, caller)
            return Response.noContent
        }
        group.get(":id/call") { _, context in
            let id = try context.parameters.path("id")
            _ = try await conversations.requireMember(id, context.requireCaller())
            return try jsonResponse(calls.state(id))
        }
    }
}
