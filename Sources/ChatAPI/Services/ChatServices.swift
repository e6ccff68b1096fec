import Logging

/// Everything the chat needs, built once per process over one database and handed to the REST
/// routes and the WebSocket layer alike.
public struct ChatServices: Sendable {
    public let database: Database
    public let users: UserStore
    public let auth: AuthService
    public let conversations: ConversationService
    public let messages: MessageService
    public let presence: PresenceLookup
    public let calls: CallLookup
    public let clock: WallClock
    public let limits: ChatLimits
    /// The per-user budgets, shared by REST and the WebSocket.
    public let rateLimits: UserRateLimits

    public init(database: Database, jwtSecret: String, bcryptCost: UInt8, clock: WallClock = .system,
                presence: PresenceLookup = .nobody, calls: CallLookup = .none, events: ChatEventSink = .discard,
                limits: ChatLimits = ChatLimits(), passwordGate: WorkGate = .forPasswordHashing()) async {
        let users = UserStore(database: database)
        let conversationStore = ConversationStore(database: database)
        let messageStore = MessageStore(database: database)
        self.database = database
        self.users = users
        self.presence = presence
        self.calls = calls
        self.clock = clock
        self.limits = limits
        let rateLimits = UserRateLimits(limits, clock: clock)
        self.rateLimits = rateLimits
        self.auth = AuthService(
            users: users,
            refreshTokens: RefreshTokenStore(database: database, graceMilliseconds: Int64(limits.refreshReuseGraceSeconds) * 1000),
            hasher: PasswordHasher(cost: bcryptCost, gate: passwordGate), accessTokens: await AccessTokens(secret: jwtSecret, clock: clock),
            clock: clock, presence: presence, database: database, events: events)
        let conversations = ConversationService(
            conversations: conversationStore, users: users, database: database, clock: clock,
            views: ConversationViews(presence: presence, calls: calls), events: events, limits: limits, rates: rateLimits)
        self.conversations = conversations
        self.messages = MessageService(
            messages: messageStore, conversations: conversationStore, access: conversations,
            database: database, clock: clock, events: events, rates: rateLimits)
    }
}
