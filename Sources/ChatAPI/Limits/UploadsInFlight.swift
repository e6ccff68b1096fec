import Synchronization

/// The local uploads this instance is receiving, by attachment id: one at a time per file, so a
/// valid upload URL cannot be used to open any number of connections and files at once (each
/// would hold a socket and a file handle until its sender stopped). At most one per unsent
/// upload, which `ATTACHMENT_MAX_PENDING` bounds per user.
public final class UploadsInFlight: Sendable {
    private let ids = Mutex<Set<String>>([])

    public init() {}

    /// Takes `id` for one upload; false when another is already receiving it.
    public func claim(_ id: String) -> Bool {
        ids.withLock { $0.insert(id).inserted }
    }

    public func release(_ id: String) {
        _ = ids.withLock { $0.remove(id) }
    }

    public var count: Int { ids.withLock { $0.count } }
}
