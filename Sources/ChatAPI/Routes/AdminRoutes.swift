import Hummingbird

/// `/admin/*` (docs/protocol.md "Administration"): accounts, invitations and bots. Every route
/// first checks that the caller is an active administrator (403 `forbidden` otherwise, bots
/// included), then calls `AdminService`.
public struct AdminRoutes: Sendable {
    let admin: AdminService
    let presence: PresenceLookup
    let publicURL: String?

    struct InviteBody: Decodable { var maxUses: Int?; var expiresInHours: Int? }
    struct RoleBody: Decodable { var role: AccountRole }
    struct BotBody: Decodable { var displayName: String }

    /// An invitation as listed; `code` and `url` only in the answer that made it.
    struct InviteDTO: Encodable {
        var id: String
        var code: String?
        var url: String?
        var maxUses: Int
        var uses: Int
        var createdAt: Timestamp
        var expiresAt: Timestamp
    }
    struct InviteList: Encodable { var invites: [InviteDTO] }
    struct UserPage: Encodable {
        var users: [UserDTO]
        var nextCursor: String?
        enum CodingKeys: String, CodingKey { case users, nextCursor }
        /// `nextCursor` is always present: null on the last page.
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(users, forKey: .users)
            try c.encode(nextCursor, forKey: .nextCursor)
        }
    }
    struct BotCreated: Encodable { var user: UserDTO; var token: String }
    struct BotList: Encodable { var bots: [UserDTO] }

    public func add(to group: RouterGroup<ParleyRequestContext>) {
        group.post("invites") { request, context in
            let caller = try await requireAdmin(context)
            let body = try await JSONBody.decode(InviteBody.self, from: request)
            let (invite, code) = try await admin.createInvite(maxUses: body.maxUses, expiresInHours: body.expiresInHours,
                                                              createdBy: caller.id)
            var dto = Self.dto(invite)
            dto.code = code
            dto.url = Self.signupURL(origin: PublicOrigin.of(request, configured: publicURL), code: code)
            return try jsonResponse(dto, status: .created)
        }
        group.get("invites") { _, context in
            try await requireAdmin(context)
            return try jsonResponse(InviteList(invites: try await admin.listInvites().map(Self.dto)))
        }
        group.delete("invites/:code") { _, context in
            try await requireAdmin(context)
            try await admin.deleteInvite(context.parameters.path("code"))
            return Response.noContent
        }
        group.get("users") { request, context in
            try await requireAdmin(context)
            let query = request.uri.queryParameters
            let page = try await admin.listUsers(query: FormQuery.value("q", in: request.uri.query), limit: query.get("limit"),
                                                 cursor: query.get("cursor"))
            return try jsonResponse(UserPage(users: page.users.map(view), nextCursor: page.nextCursor))
        }
        group.post("users/:id/deactivate") { _, context in
            try await requireAdmin(context)
            try await admin.deactivate(userId: context.parameters.path("id"))
            return Response.noContent
        }
        group.post("users/:id/reactivate") { _, context in
            try await requireAdmin(context)
            try await admin.reactivate(userId: context.parameters.path("id"))
            return Response.noContent
        }
        group.patch("users/:id") { request, context in
            try await requireAdmin(context)
            let id = try context.parameters.path("id")
            let body = try await JSONBody.decode(RoleBody.self, from: request)
            try await admin.setRole(userId: id, role: body.role)
            return Response.noContent
        }
        group.post("bots") { request, context in
            let caller = try await requireAdmin(context)
            let body = try await JSONBody.decode(BotBody.self, from: request)
            let (user, token) = try await admin.createBot(displayName: body.displayName, createdBy: caller.id)
            return try jsonResponse(BotCreated(user: view(user), token: token), status: .created)
        }
        group.get("bots") { _, context in
            try await requireAdmin(context)
            return try jsonResponse(BotList(bots: try await admin.listBots().map(view)))
        }
        group.delete("bots/:id") { _, context in
            try await requireAdmin(context)
            try await admin.deleteBot(userId: context.parameters.path("id"))
            return Response.noContent
        }
    }

    @discardableResult
    private func requireAdmin(_ context: ParleyRequestContext) async throws -> UserRecord {
        try await admin.requireAdmin(context.requireCaller())
    }

    /// An account as administrators see it: email and deactivation included.
    private func view(_ user: UserRecord) -> UserDTO {
        user.dto(online: presence.isOnline(user.id), includeEmail: true, includeStatus: true)
    }

    static func dto(_ invite: InviteRecord) -> InviteDTO {
        InviteDTO(id: invite.id, code: nil, url: nil, maxUses: invite.maxUses, uses: invite.uses, createdAt: invite.createdAt,
                  expiresAt: invite.expiresAt)
    }

    /// The web client's sign-up page with the code filled in.
    public static func signupURL(origin: String, code: String) -> String {
        "\(origin)/#/signup?invite=\(code)"
    }
}
