import Logging
import NIOCore
import PostgresNIO
import NIOConcurrencyHelpers

/// A PostgreSQL connection closed under a query that postgres-nio then never answered.
public struct DatabaseConnectionLost: Error, CustomStringConvertible {
    public var description: String { "the PostgreSQL connection closed before the query was answered" }
}

/// A `PostgresDatabase` whose queries fail when their connection closes.
///
/// Why: postgres-nio (1.33) writes a query to its channel without a write promise, so a query
/// issued on a connection that the server has just closed (PostgreSQL killed or restarted, the
/// next statement of a transaction already under way, or its ROLLBACK) is never answered:
/// the request would hang for good, holding its pooled connection, and nothing would be logged.
/// Every operation here fails with `DatabaseConnectionLost` (503 `unavailable`,
/// `StorageFailure`) as soon as its connection is gone (`ConnectionWatch`). The abandoned
/// query's own future stays pending inside the dead connection, which the pool drops.
struct ClosingPostgresDatabase: PostgresDatabase {
    let base: any PostgresDatabase

    var logger: Logger { base.logger }
    var eventLoop: any EventLoop { base.eventLoop }

    func send(_ request: any PostgresRequest, logger: Logger) -> EventLoopFuture<Void> {
        base.withConnection { connection in
            ConnectionWatch.shared.failingWhenClosed(connection.send(request, logger: logger), connection: connection)
        }
    }

    func withConnection<T>(_ closure: @escaping (PostgresConnection) -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        base.withConnection { connection in ConnectionWatch.shared.failingWhenClosed(closure(connection), connection: connection) }
    }
}

/// The operations in flight per open connection, failed together when it closes. One
/// `closeFuture` callback per connection (not one per query, which would pile up on a
/// connection that lives for days), and each operation is completed exactly once: by its own
/// result or by the close, whichever comes first. Its lock is NIO's (a pthread mutex), not
/// Synchronization's `Mutex`: the callbacks run on different event loops with nothing else
/// ordering them, and ThreadSanitizer does not see `Mutex` on Linux (it reports its accesses as
/// races), so `scripts/sanitize thread` could not check this type otherwise.
final class ConnectionWatch: Sendable {
    static let shared = ConnectionWatch()

    private struct State {
        var inFlight: [ObjectIdentifier: [UInt64: @Sendable () -> Void]] = [:]
        var nextID: UInt64 = 0
    }
    private let state = NIOLockedValueBox(State())

    func failingWhenClosed<T>(_ future: EventLoopFuture<T>, connection: PostgresConnection) -> EventLoopFuture<T> {
        let promise = connection.eventLoop.makePromise(of: T.self)
        let key = ObjectIdentifier(connection)
        let (id, firstOnConnection) = state.withLockedValue { state -> (UInt64, Bool) in
            state.nextID += 1
            let first = state.inFlight[key] == nil
            state.inFlight[key, default: [:]][state.nextID] = { promise.fail(DatabaseConnectionLost()) }
            return (state.nextID, first)
        }
        if firstOnConnection {
            connection.closeFuture.whenComplete { _ in
                let failers = self.state.withLockedValue { $0.inFlight.removeValue(forKey: key) } ?? [:]
                for fail in failers.values { fail() }
            }
        }
        future.whenComplete { result in
            let mine = self.state.withLockedValue { state -> Bool in
                guard state.inFlight[key]?.removeValue(forKey: id) != nil else { return false }
                return true
            }
            guard mine else { return }
            // On the promise's own loop, where a result of any type may be handed over.
            let handover = Handover(result)
            let loop = promise.futureResult.eventLoop
            if loop.inEventLoop {
                promise.assumeIsolated().completeWith(handover.value)
            } else {
                loop.execute { promise.assumeIsolated().completeWith(handover.value) }
            }
        }
        return promise.futureResult
    }
}

/// A query's result moved once from postgres-nio's future to the promise its caller holds, on
/// that promise's event loop; it is never shared, so moving it is safe whatever `T` is
/// (postgres-nio's `withConnection` is generic over non-`Sendable` results).
private struct Handover<T>: @unchecked Sendable {
    let value: Result<T, any Error>
    init(_ value: Result<T, any Error>) { self.value = value }
}
