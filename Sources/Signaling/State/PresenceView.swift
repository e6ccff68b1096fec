/// Which instances hold connections of which users, as learned from the bus; a user is
/// online while any instance holds one. Each instance announces only its own 0-to-1 and 1-to-0
/// changes, so every instance sees the same first-connect and last-disconnect transitions.
///
/// An instance that dies without announcing leaves its users online in the others' view until
/// they reconnect and disconnect; a heartbeat table would bound that, and is not built yet.
public struct PresenceView: Sendable {
    private var instances: [String: Set<String>] = [:]

    public init() {}

    /// Applies one instance's change; true when the user's overall online state changed.
    public mutating func apply(userId: String, instance: String, online: Bool) -> Bool {
        let before = !(instances[userId]?.isEmpty ?? true)
        if online {
            instances[userId, default: []].insert(instance)
        } else {
            instances[userId]?.remove(instance)
            if instances[userId]?.isEmpty == true { instances[userId] = nil }
        }
        let after = instances[userId] != nil
        return before != after
    }

    public func isOnline(_ userId: String) -> Bool { instances[userId] != nil }
}
