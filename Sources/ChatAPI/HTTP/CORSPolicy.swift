import Hummingbird

/// The origins allowed to call the API from a browser (ALLOWED_ORIGINS) besides the server's own.
/// Used for CORS here and for the WebSocket upgrade's `Origin` check.
public struct OriginPolicy: Sendable {
    public let allowed: Set<String>

    public init(allowed: [String]) {
        self.allowed = Set(allowed.map { $0.lowercased().trimmingSuffix("/") })
    }

    /// True for no `Origin` or a non-web one (scripts and bots send none, or their `ws://`
    /// URL), the server's own origin (matching `Host`), or a listed one. Browsers always send
    /// an `http(s)` origin, and that is the case cross-site WebSocket hijacking needs refused.
    public func accepts(origin: String?, host: String?) -> Bool {
        guard let origin = origin?.lowercased(),
              origin == "null" || origin.hasPrefix("http://") || origin.hasPrefix("https://")
        else { return true }
        // `null` is what a sandboxed or file: page sends: a browser, never the server's own.
        if origin == "null" { return false }
        if allowed.contains(origin) { return true }
        guard let host = host?.lowercased() else { return false }
        return origin == "http://\(host)" || origin == "https://\(host)"
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}

/// CORS for the listed origins only (the same origin needs none): preflights are answered
/// here, and responses to allowed origins carry `Access-Control-Allow-Origin`.
public struct CORSPolicyMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: OriginPolicy

    public init(policy: OriginPolicy) { self.policy = policy }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], policy.allowed.contains(origin.lowercased()) else {
            return try await next(request, context)
        }
        var headers: HTTPFields = [
            .accessControlAllowOrigin: origin,
            .vary: "Origin",
        ]
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            headers[.accessControlAllowMethods] = "GET, POST, PATCH, DELETE, OPTIONS"
            headers[.accessControlAllowHeaders] = "Authorization, Content-Type"
            headers[.accessControlMaxAge] = "600"
            return Response(status: .noContent, headers: headers)
        }
        var response = try await next(request, context)
        response.headers.append(contentsOf: headers)
        return response
    }
}
