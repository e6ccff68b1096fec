import Hummingbird

/// `/auth/*`: register, login, refresh, logout, logout-all (docs/protocol.md "Authentication").
public struct AuthRoutes: Sendable {
    let auth: AuthService

    struct RegisterBody: Decodable { var email: String; var password: String; var displayName: String; var inviteCode: String? }
    struct LoginBody: Decodable { var email: String; var password: String }
    struct TokenBody: Decodable { var refreshToken: String }

    /// `authenticated` guards the routes that act on the caller's own logins (`logout-all`).
    public func add(to group: RouterGroup<ParleyRequestContext>, rateLimit: RateLimitMiddleware?, authenticated: AuthMiddleware) {
        let limited = group.group()
        if let rateLimit { limited.add(middleware: rateLimit) }
        limited.post("register") { request, _ in
            let body = try await JSONBody.decode(RegisterBody.self, from: request)
            return try jsonResponse(try await auth.register(
                email: body.email, password: body.password, displayName: body.displayName, inviteCode: body.inviteCode),
                                    status: .created)
        }
        limited.post("login") { request, _ in
            let body = try await JSONBody.decode(LoginBody.self, from: request)
            guard body.email.utf8.count <= 254, body.password.utf8.count <= 1024 else { throw APIError.invalidCredentials }
            return try jsonResponse(try await auth.login(email: body.email, password: body.password))
        }
        limited.post("refresh") { request, _ in
            let body = try await JSONBody.decode(TokenBody.self, from: request)
            try Self.validateToken(body.refreshToken)
            return try jsonResponse(try await auth.refresh(body.refreshToken))
        }
        group.post("logout") { request, _ in
            let body = try await JSONBody.decode(TokenBody.self, from: request)
            try Self.validateToken(body.refreshToken)
            try await auth.logout(body.refreshToken)
            return Response.noContent
        }
        group.group().add(middleware: authenticated).post("logout-all") { _, context in
            try await auth.logoutAll(context.requireCaller())
            return Response.noContent
        }
    }

    static func validateToken(_ token: String) throws {
        guard (1...200).contains(token.utf8.count) else {
            throw APIError.invalidField("refreshToken", "refreshToken must be 1 to 200 characters.")
        }
    }
}
