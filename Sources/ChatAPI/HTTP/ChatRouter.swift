import Hummingbird

/// Options of the REST surface that come from configuration.
public struct ChatHTTPOptions: Sendable {
    public var authRateLimit: RateLimiter.Rule?
    public var trustedProxies: TrustedProxies
    public var origins: OriginPolicy

    public init(authRateLimit: RateLimiter.Rule? = .init(limit: 10, windowMilliseconds: 30_000),
                trustedProxies: TrustedProxies = .loopback, origins: OriginPolicy = OriginPolicy(allowed: [])) {
        self.authRateLimit = authRateLimit
        self.trustedProxies = trustedProxies
        self.origins = origins
    }
}

/// Assembles the REST API (docs/protocol.md "REST resources", openapi.yaml) on a router. The caller adds what lives outside
/// ChatAPI (`/metrics`, `/ws`, the web client).
public enum ChatRouter {
    public static func make(services: ChatServices, options: ChatHTTPOptions = .init()) -> Router<ParleyRequestContext> {
        let router = Router(context: ParleyRequestContext.self)
        // Outermost first: every response, errors included, gets its request id, a log line
        // and CORS headers, and is counted with its final status.
        router.add(middleware: RequestIdMiddleware())
        router.add(middleware: AccessLogMiddleware())
        router.add(middleware: CORSPolicyMiddleware(policy: options.origins))
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ErrorMiddleware())

        SystemRoutes(database: services.database).add(to: router)

        let rateLimit = options.authRateLimit.map {
            RateLimitMiddleware(limiter: RateLimiter(rule: $0, clock: services.clock), proxies: options.trustedProxies)
        }
        AuthRoutes(auth: services.auth).add(to: router.group("auth"), rateLimit: rateLimit)

        let authenticated = AuthMiddleware(auth: services.auth)
        UserRoutes(users: services.users, presence: services.presence, rates: services.rateLimits)
            .add(to: router.group("users").add(middleware: authenticated))
        ConversationRoutes(conversations: services.conversations, messages: services.messages, calls: services.calls)
            .add(to: router.group("conversations").add(middleware: authenticated))
        return router
    }
}
