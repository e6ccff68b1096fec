import Synchronization

/// Open WebSockets counted per key (a user id, or a client address), for the caps
/// WS_MAX_PER_USER and WS_MAX_PER_ADDRESS. Counts are of this instance's connections; a key
/// is forgotten when its last connection goes, so the table holds only live connections.
final class ConnectionSlots: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    /// Takes a slot for `key` unless it already holds `cap`; nil cap: always.
    func take(_ key: String, cap: Int?) -> Bool {
        counts.withLock { counts in
            let held = counts[key, default: 0]
            if let cap, held >= cap { return false }
            counts[key] = held + 1
            return true
        }
    }

    func give(_ key: String) {
        counts.withLock { counts in
            guard let held = counts[key] else { return }
            counts[key] = held > 1 ? held - 1 : nil
        }
    }
}
