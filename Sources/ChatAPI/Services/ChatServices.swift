import Foundation
import Logging
import ObjectStorage

/// Everything the chat needs, built once per process over one database and handed to the REST
/// routes and the WebSocket layer alike.
public struct ChatServices: Sendable {
    public let database: Database
    public let users: UserStore
    public let auth: AuthService
    public let conversations: ConversationService
    public let messages: MessageService
    public let admin: AdminService
    public let webhooks: WebhookService
    public let attachments: AttachmentService
    public let presence: PresenceLookup
    public let calls: CallLookup
    public let clock: WallClock
    public let limits: ChatLimits
    /// The per-user budgets, shared by REST and the WebSocket.
    public let rateLimits: UserRateLimits

    public init(database: Database, jwtSecret: String, bcryptCost: UInt8, clock: WallClock = .system,
                presence: PresenceLookup = .nobody, calls: CallLookup = .none, events: ChatEventSink = .discard,
                limits: ChatLimits = ChatLimits(), passwordGate: WorkGate = .forPasswordHashing(),
                registration: RegistrationPolicy = .invite, storage: (any AttachmentStorage)? = nil) async {
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
        let refreshTokens = RefreshTokenStore(database: database, graceMilliseconds: Int64(limits.refreshReuseGraceSeconds) * 1000)
        let invites = InviteStore(database: database), botTokens = BotTokenStore(database: database)
        let hasher = PasswordHasher(cost: bcryptCost, gate: passwordGate)
        let auth = AuthService(
            users: users, refreshTokens: refreshTokens, invites: invites, botTokens: botTokens,
            hasher: hasher, accessTokens: await AccessTokens(secret: jwtSecret, clock: clock),
            clock: clock, presence: presence, database: database, events: events, registration: registration)
        self.auth = auth
        self.admin = AdminService(
            users: users, invites: invites, botTokens: botTokens, refreshTokens: refreshTokens, auth: auth, hasher: hasher,
            database: database, clock: clock, events: events)
        let system = SystemMessages(messages: messageStore, conversations: conversationStore, users: users)
        let conversations = ConversationService(
            conversations: conversationStore, users: users, database: database, clock: clock,
            views: ConversationViews(presence: presence, calls: calls), events: events, limits: limits, rates: rateLimits,
            system: system)
        self.conversations = conversations
        // Without a configured storage (tests), files go to a folder of their own under the temporary directory.
        let storage = try! storage ?? LocalFolderStorage(
            folder: NSTemporaryDirectory() + "parley-files-" + UUID().uuidString, secret: jwtSecret)
        let attachments = AttachmentService(
            storage: storage, attachments: AttachmentStore(database: database), access: conversations, database: database,
            clock: clock, rates: rateLimits, limits: limits, logger: Logger(label: "parley.attachments"))
        self.attachments = attachments
        self.messages = MessageService(
            messages: messageStore, conversations: conversationStore, access: conversations,
            database: database, clock: clock, events: events, rates: rateLimits, system: system, files: attachments)
        self.webhooks = WebhookService(
            webhooks: WebhookStore(database: database), messages: messageStore, conversations: conversationStore,
            access: conversations, database: database, clock: clock, events: events, rates: rateLimits)
    }
}
