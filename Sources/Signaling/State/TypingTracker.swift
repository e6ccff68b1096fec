import ChatAPI

/// Who is typing where, on this instance, as a pure state machine: inputs carry the time,
/// outputs say which `typing` events to send (docs/protocol.md: `typing: false` follows by itself
/// 6 s after the last `typing.start`, on send, and on disconnect).
public struct TypingTracker: Sendable {
    public struct Key: Hashable, Sendable {
        public var conversationId: String
        public var userId: String
        public init(conversationId: String, userId: String) {
            self.conversationId = conversationId
            self.userId = userId
        }
    }

    public static let expiryMilliseconds: Int64 = 6000

    private var deadlines: [Key: (deadline: Int64, connection: UInt64)] = [:]

    public init() {}

    /// Records a `typing.start`; true when the user was not typing there yet (announce it).
    public mutating func start(_ key: Key, connection: UInt64, now: Timestamp) -> Bool {
        let wasTyping = deadlines[key] != nil
        deadlines[key] = (now.milliseconds + Self.expiryMilliseconds, connection)
        return !wasTyping
    }

    /// A `typing.stop` or a sent message; true when the user was typing (announce the stop).
    public mutating func stop(_ key: Key) -> Bool {
        deadlines.removeValue(forKey: key) != nil
    }

    /// Everything whose last `typing.start` is 6 s old or more.
    public mutating func expire(now: Timestamp) -> [Key] {
        let expired = deadlines.filter { $0.value.deadline <= now.milliseconds }.map(\.key)
        for key in expired { deadlines.removeValue(forKey: key) }
        return expired
    }

    /// What a closing connection was typing.
    public mutating func drop(connection: UInt64) -> [Key] {
        let dropped = deadlines.filter { $0.value.connection == connection }.map(\.key)
        for key in dropped { deadlines.removeValue(forKey: key) }
        return dropped
    }
}
