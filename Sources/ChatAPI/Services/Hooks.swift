import SQLKit

/// What ChatAPI needs to know from the live parts of the process (WebSocket presence, the SFU)
/// without depending on them: plain functions that the wiring fills in.
public struct PresenceLookup: Sendable {
    public var isOnline: @Sendable (_ userId: String) -> Bool
    public init(isOnline: @escaping @Sendable (String) -> Bool) { self.isOnline = isOnline }
    public static let nobody = PresenceLookup { _ in false }
}

public struct CallLookup: Sendable {
    public var state: @Sendable (_ conversationId: String) -> CallStateDTO
    public init(state: @escaping @Sendable (String) -> CallStateDTO) { self.state = state }
    public static let none = CallLookup { _ in CallStateDTO(active: false, participants: []) }

    func summary(_ conversationId: String) -> CallSummary {
        let state = state(conversationId)
        return CallSummary(active: state.active, participants: state.participants.map(\.userId))
    }
}

/// A change to chat state, published after it is committed, with the users who may see it.
/// The Signaling module turns these into WebSocket events; REST and WebSocket requests go
/// through the same services, so they produce the same events.
public enum ChatEvent: Sendable {
    case messageNew(MessageDTO, recipients: [String])
    case messageUpdated(MessageDTO, recipients: [String])
    case messageDeleted(conversationId: String, messageId: String, recipients: [String])
    case readUpdated(conversationId: String, userId: String, messageId: String, recipients: [String])
    /// Carries the conversation as seen by nobody in particular (unreadCount 0); receivers
    /// that need a personal view fetch it.
    case conversationCreated(ConversationDTO, recipients: [String])
    case conversationUpdated(ConversationDTO, recipients: [String])
    case memberAdded(conversationId: String, userId: String, recipients: [String])
    case memberRemoved(conversationId: String, userId: String, recipients: [String])
    /// A login was ended (logout, or a refresh token presented twice): its WebSocket sessions
    /// must end too, on every instance.
    case loginRevoked(loginId: String, userId: String)
}

/// Where committed changes go. A transactional outbox in two steps: `stage` runs inside the
/// transaction that made the change (the PostgreSQL bus sends NOTIFY there, so events leave
/// only if the change commits, and in commit order), `committed` runs after COMMIT (the
/// in-process bus delivers there).
public struct ChatEventSink: Sendable {
    public var stage: (@Sendable (ChatEvent, any SQLDatabase) async throws -> Void)?
    public var committed: @Sendable (ChatEvent) async -> Void

    public init(stage: (@Sendable (ChatEvent, any SQLDatabase) async throws -> Void)? = nil,
                committed: @escaping @Sendable (ChatEvent) async -> Void) {
        self.stage = stage
        self.committed = committed
    }

    public static let discard = ChatEventSink { _ in }

    /// Makes a change and announces the events it returns: staged inside its transaction,
    /// delivered after its COMMIT. Every query in `body` must use the `sql` it is given.
    func commit<R: Sendable>(
        _ database: Database, _ body: @escaping @Sendable (any SQLDatabase) async throws -> (R, [ChatEvent])
    ) async throws -> R {
        let stage = self.stage, committed = self.committed
        return try await database.transaction({ sql in
            let (result, events) = try await body(sql)
            if let stage { for event in events { try await stage(event, sql) } }
            return (result, events)
        }, afterCommit: { (_, events) in
            for event in events { await committed(event) }
        }).0
    }
}
