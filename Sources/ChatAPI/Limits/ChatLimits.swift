import Synchronization

/// The per-user rate limits and caps of the chat (README "Configuration"). Each is optional:
/// nil is `off` (load tests).
public struct ChatLimits: Sendable {
    /// Messages sent, over REST and the WebSocket alike (one budget per user).
    public var messages: RateLimiter.Rule? = .init(limit: 30, windowMilliseconds: 10_000)
    /// Conversations created (DMs opened and groups made).
    public var conversations: RateLimiter.Rule? = .init(limit: 30, windowMilliseconds: 60_000)
    /// Members added to groups.
    public var members: RateLimiter.Rule? = .init(limit: 60, windowMilliseconds: 60_000)
    /// User searches.
    public var search: RateLimiter.Rule? = .init(limit: 60, windowMilliseconds: 60_000)
    /// GROUP_MAX_MEMBERS: members of one group, its owner included.
    public var groupMaxMembers: Int? = 1000
    /// USER_MAX_CONVERSATIONS: conversations one user can be in.
    public var userMaxConversations: Int? = 10_000
    /// Attachments announced (RATE_UPLOADS).
    public var uploads: RateLimiter.Rule? = .init(limit: 60, windowMilliseconds: 60_000)
    /// ATTACHMENT_MAX_BYTES: the largest file (25 MiB).
    public var attachmentMaxBytes: Int64 = 25 * 1024 * 1024
    /// ATTACHMENT_QUOTA_BYTES: what one user's files may add up to (2 GiB).
    public var attachmentQuotaBytes: Int64? = 2 * 1024 * 1024 * 1024
    /// ATTACHMENT_MAX_PENDING: uploads of one user that no message refers to yet.
    public var attachmentMaxPending: Int? = 100
    /// REFRESH_REUSE_GRACE: how long after its rotation a refresh token may be presented again
    /// (while its successor is unused) without counting as reuse, in seconds; 0 disables.
    public var refreshReuseGraceSeconds: Int = 10

    public init() {}

    /// No rate limit and no cap (tests that create much quickly, load tests).
    public static var unlimited: ChatLimits {
        var limits = ChatLimits()
        limits.messages = nil
        limits.conversations = nil
        limits.members = nil
        limits.search = nil
        limits.uploads = nil
        limits.attachmentQuotaBytes = nil
        limits.attachmentMaxPending = nil
        limits.groupMaxMembers = nil
        limits.userMaxConversations = nil
        return limits
    }
}

/// What a user spends from a budget.
public enum RatedAction: Sendable {
    case message, conversation, member, search, upload
}

/// The live buckets of `ChatLimits`' rate rules, shared by REST and WebSocket requests.
public struct UserRateLimits: Sendable {
    private let buckets: [RatedAction: TokenBuckets]

    public init(_ limits: ChatLimits, clock: WallClock) {
        var buckets: [RatedAction: TokenBuckets] = [:]
        let rules: [(RatedAction, RateLimiter.Rule?)] = [
            (.message, limits.messages), (.conversation, limits.conversations),
            (.member, limits.members), (.search, limits.search), (.upload, limits.uploads),
        ]
        for (action, rule) in rules { if let rule { buckets[action] = TokenBuckets(rule: rule, clock: clock) } }
        self.buckets = buckets
    }

    /// Spends one of the user's tokens for `action`, or throws 429 `rate_limited`.
    public func spend(_ action: RatedAction, userId: String) throws {
        if let retryAfter = buckets[action]?.acquire(userId) { throw APIError.rateLimited(retryAfter: retryAfter) }
    }
}

extension APIError {
    /// 409 `limit_reached`, naming the setting that sets the cap.
    public static func limitReached(_ setting: String, _ message: String) -> APIError {
        APIError(.conflict, code: "limit_reached", message: "\(message) (\(setting)).")
    }
}
