import Hummingbird

/// Options of the REST surface that come from configuration.
public struct ChatHTTPOptions: Sendable {
    public var authRateLimit: RateLimiter.Rule?
    public var trustedProxies: TrustedProxies
    public var origins: OriginPolicy
    /// PUBLIC_URL: the origin of the links the server hands out (invitations, webhooks); nil:
    /// the origin each request came from.
    public var publicURL: String?

    public init(authRateLimit: RateLimiter.Rule? = .init(limit: 10, windowMilliseconds: 30_000),
                trustedProxies: TrustedProxies = .loopback, origins: OriginPolicy = OriginPolicy(allowed: []),
                publicURL: String? = nil) {
        self.authRateLimit = authRateLimit
        self.trustedProxies = trustedProxies
        self.origins = origins
        self.publicURL = publicURL
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
        let authenticated = AuthMiddleware(auth: services.auth)
        AuthRoutes(auth: services.auth).add(to: router.group("auth"), rateLimit: rateLimit, authenticated: authenticated)
        UserRoutes(users: services.users, auth: services.auth, presence: services.presence, rates: services.rateLimits)
            .add(to: router.group("users").add(middleware: authenticated))
        let conversationGroup = router.group("conversations").add(middleware: authenticated)
        ConversationRoutes(conversations: services.conversations, messages: services.messages, calls: services.calls)
            .add(to: conversationGroup)
        let attachmentRoutes = AttachmentRoutes(attachments: services.attachments, publicURL: options.publicURL)
        attachmentRoutes.addAnnouncement(to: conversationGroup)
        attachmentRoutes.addDownload(to: router.group("attachments").add(middleware: authenticated))
        attachmentRoutes.addUpload(to: router.group("attachments"))
        let webhookRoutes = WebhookRoutes(webhooks: services.webhooks, publicURL: options.publicURL)
        webhookRoutes.addManagement(to: conversationGroup)
        webhookRoutes.addIncoming(to: router.group("hooks"))
        AdminRoutes(admin: services.admin, presence: services.presence, publicURL: options.publicURL)
            .add(to: router.group("admin").add(middleware: authenticated))
        return router
    }
}
