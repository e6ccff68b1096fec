import SQLKit
import Synchronization

/// The single-instance bus: publishing delivers at once, on the publisher's task.
public final class InProcessPubSub: PubSub {
    /// The receiver sits in a class with a concrete closure property: kept in a generic
    /// container, the closure would be re-wrapped in a reabstraction thunk on every read.
    private final class Receiver: Sendable {
        let deliver: @Sendable (BusMessage) -> Void
        init(_ deliver: @escaping @Sendable (BusMessage) -> Void) { self.deliver = deliver }
    }
    private let receiver = Mutex<Receiver?>(nil)

    public init() {}

    public var isTransactional: Bool { false }

    public func publish(_ message: BusMessage, in transaction: (any SQLDatabase)?) async throws {
        receiver.withLock { $0 }?.deliver(message)
    }

    public func run(deliver: @escaping @Sendable (BusMessage) -> Void, ready: @escaping @Sendable () -> Void) async throws {
        receiver.withLock { $0 = Receiver(deliver) }
        defer { receiver.withLock { $0 = nil } }
        ready()
        // Stays until cancelled, like the PostgreSQL listener.
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
    }

    public func sweep() async {}
}
