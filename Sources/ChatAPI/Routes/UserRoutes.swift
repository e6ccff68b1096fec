import Hummingbird

/// `/users/me`, the caller's password, and user search.
public struct UserRoutes: Sendable {
    let users: UserStore
    let auth: AuthService
    let presence: PresenceLookup
    let rates: UserRateLimits

    struct PasswordBody: Decodable { var currentPassword: String; var newPassword: String }

    struct PatchBody: Decodable {
        var displayName: String?
        /// Absent: unchanged; null: removed; a string: set.
        var avatarUrl: String??

        enum CodingKeys: String, CodingKey { case displayName, avatarUrl }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            displayName = try c.decodeIfPresent(String.self, forKey: .displayName)
            avatarUrl = c.contains(.avatarUrl) ? .some(try c.decodeNil(forKey: .avatarUrl) ? nil : try c.decode(String.self, forKey: .avatarUrl)) : .none
        }
    }

    struct UserList: Encodable { var users: [UserDTO] }

    public func add(to group: RouterGroup<ParleyRequestContext>) {
        group.get("me") { _, context in
            try jsonResponse(try await me(context.requireCaller()))
        }
        group.patch("me") { request, context in
            let caller = try context.requireCaller()
            let body = try await JSONBody.decode(PatchBody.self, from: request)
            if let name = body.displayName { try Validate.displayName(name) }
            if case .some(.some(let url)) = body.avatarUrl { try Validate.avatarURL(url) }
            try await users.update(id: caller.userId, displayName: body.displayName, avatarUrl: body.avatarUrl)
            return try jsonResponse(try await me(caller))
        }
        group.post("me/password") { request, context in
            let caller = try context.requireCaller()
            let body = try await JSONBody.decode(PasswordBody.self, from: request)
            try await auth.changePassword(caller, current: body.currentPassword, new: body.newPassword)
            return Response.noContent
        }
        group.get { request, context in
            let caller = try context.requireCaller()
            // Form encoding: a browser's URLSearchParams sends "Lone abc123" as q=Lone+abc123.
            // Up to 254 characters: a whole email address may be that long (RFC 5321 §4.5.3.1.3).
            guard let q = FormQuery.value("q", in: request.uri.query), (1...254).contains(q.count), !q.utf8.contains(0),
                  !q.allSatisfy(\.isWhitespace)
            else {
                throw APIError.invalidField("q", "q must be a name prefix or a whole email address of 1 to 254 characters.")
            }
            let limit = try Validate.limit(request.uri.queryParameters.get("limit"), default: 20, cap: 50)
            try rates.spend(.search, userId: caller.userId)
            let found = try await users.search(q, viewer: caller.userId, limit: limit)
            return try jsonResponse(UserList(users: found.map { $0.user.dto(seenBy: $0.isContact, presence: presence) }))
        }
    }

    private func me(_ caller: AuthContext) async throws -> UserDTO {
        guard let user = try await users.find(id: caller.userId) else { throw APIError.unauthorized() }
        return user.dto(online: presence.isOnline(user.id), includeEmail: true, includeStatus: true)
    }
}
