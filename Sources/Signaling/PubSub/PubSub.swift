import ChatAPI
import SQLKit

/// Delivery of `BusMessage`s to every Parley instance, this one included. Two implementations:
/// in-process (one instance, the default) and PostgreSQL LISTEN/NOTIFY (several instances on
/// one database).
public protocol PubSub: Sendable {
    /// Whether `publish` inside a transaction defers delivery to its commit (PostgreSQL NOTIFY).
    var isTransactional: Bool { get }

    /// Sends `message` to every instance: inside `transaction` when given and transactional.
    func publish(_ message: BusMessage, in transaction: (any SQLDatabase)?) async throws

    /// Delivers every message published by any instance to `deliver`, until cancelled; calls
    /// `ready` once messages published from then on are sure to arrive, and again after each
    /// reconnection (messages published while disconnected are lost).
    func run(deliver: @escaping @Sendable (BusMessage) -> Void, ready: @escaping @Sendable () -> Void) async throws

    /// Periodic housekeeping (dropping spilled payloads every listener has read).
    func sweep() async
}

extension PubSub {
    /// The chat services' outbox, wired to this bus.
    public func eventSink() -> ChatEventSink {
        if isTransactional {
            return ChatEventSink(
                stage: { event, sql in try await self.publish(BusMessage(event), in: sql) },
                committed: { _ in })
        }
        return ChatEventSink { event in try? await self.publish(BusMessage(event), in: nil) }
    }
}
