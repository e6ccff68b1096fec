import SQLKit
import Synchronization

/// The single-instance bus: publishing delivers at once, on the publisher's task.
public final class InProcessPubSub: PubSub {
    private let deliver = Mutex<(@Sendable (BusMessage) -> Void)?>(nil)

    public init() {}

    public var isTransactional: Bool { false }

    public func publish(_ message: BusMessage, in transaction: (any SQLDatabase)?) async throws {
        deliver.withLock { $0 }?(message)
    }

    public func run(deliver: @escaping @Sendable (BusMessage) -> Void, ready: @escaping @Sendable () -> Void) async throws {
        self.deliver.withLock { $0 = deliver }
        defer { self.deliver.withLock { $0 = nil } }
        ready()
        // Stays until cancelled, like the PostgreSQL listener.
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
    }

    public func sweep() async {}
}
