import Metrics
import SQLKit
import Synchronization

/// Group commit for SQLite: write transactions that arrive while another is committing wait
/// and then commit together, in one transaction, so one fsync of the write-ahead log
/// (`synchronous=FULL`, see `TunedSQLiteSource`) acknowledges all of them. Each keeps its own
/// all-or-nothing behaviour through a savepoint (SQLite "SAVEPOINT"): a transaction body that
/// throws is rolled back to its savepoint and its caller gets the error, while the others in the
/// group commit. Nothing is acknowledged before the group's COMMIT has returned, and a failed
/// COMMIT fails every transaction in the group (none of them was saved).
///
/// Under no contention a group is one transaction and costs what a plain one does; under load
/// the groups grow by themselves (everything that queued during the last COMMIT), which is what
/// gives back the throughput that a sync per COMMIT takes (BENCHMARKS.md).
public final class CommitGroup: Sendable {
    /// One caller's transaction, type-erased: `run` executes the body inside the group's
    /// transaction and keeps its result; `finish` runs after COMMIT (its `afterCommit`, then its
    /// continuation resumed) or, with an error, resumes the continuation with it.
    struct Job: Sendable {
        var run: @Sendable (any SQLDatabase) async throws -> Void
        var finish: @Sendable ((any Error)?) async -> Void
        var queuedAt: ContinuousClock.Instant
    }

    /// A transaction refused because the database is not keeping up: more than `maximumPending`
    /// were waiting, or it waited longer than `maximumWait` (the bound the connection pool put
    /// on waiting for SQLite's one connection before groups existed). Nothing was written; the
    /// client gets 503 `unavailable` (`StorageFailure`) and may retry.
    public struct Overloaded: Error, CustomStringConvertible {
        public var description: String { "too many write transactions waiting for SQLite" }
    }

    private struct State {
        var pending: [Job] = []
        var draining = false
        var commits = 0
        var transactions = 0
    }

    /// COMMITs run and the transactions they carried (committed or rolled back to their
    /// savepoint), since the start; also `parley_sqlite_commits_total` and
    /// `parley_sqlite_transactions_total` in /metrics, whose ratio is the mean group size.
    var statistics: (commits: Int, transactions: Int) { state.withLock { ($0.commits, $0.transactions) } }
    private let commitsCounter = Counter(label: "parley_sqlite_commits_total")
    private let transactionsCounter = Counter(label: "parley_sqlite_transactions_total")

    /// More than this many transactions wait for the next group (bounds how long one group
    /// holds the connection, and so how long a read may wait behind it).
    static let maximumGroup = 64

    private let sql: any SQLDatabase
    private let state = Mutex(State())
    /// Bounds on what waits (memory and latency under overload), and the clock they are read
    /// with (tests move it).
    private let maximumPending: Int
    private let maximumWait: Duration
    private let now: @Sendable () -> ContinuousClock.Instant

    public init(sql: any SQLDatabase, maximumPending: Int = 4096, maximumWait: Duration = .seconds(30),
         now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.sql = sql
        self.maximumPending = maximumPending
        self.maximumWait = maximumWait
        self.now = now
    }

    public func transaction<R: Sendable>(
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> R,
        afterCommit: (@Sendable (R) async -> Void)? = nil
    ) async throws -> R {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<R, any Error>) in
            let result = ResultSlot<R>()
            let job = Job(
                run: { session in result.value = try await body(session) },
                finish: { error in
                    if let error {
                        continuation.resume(throwing: error)
                        return
                    }
                    let value = result.value!
                    await afterCommit?(value)
                    continuation.resume(returning: value)
                },
                queuedAt: now())
            let (accepted, start) = state.withLock { state -> (Bool, Bool) in
                guard state.pending.count < maximumPending else { return (false, false) }
                state.pending.append(job)
                if state.draining { return (true, false) }
                state.draining = true
                return (true, true)
            }
            if !accepted { continuation.resume(throwing: Overloaded()) }
            if start { Task { await self.drain() } }
        }
    }

    /// Commits groups until nothing is waiting. Transactions that waited past `maximumWait` are
    /// refused (`Overloaded`) instead of run, so a backlog cannot grow without end.
    private func drain() async {
        while true {
            let cutoff = now() - maximumWait
            let (group, expired) = state.withLock { state -> ([Job], [Job]) in
                var expired: [Job] = []
                while let first = state.pending.first, first.queuedAt < cutoff {
                    expired.append(state.pending.removeFirst())
                }
                let group = Array(state.pending.prefix(Self.maximumGroup))
                state.pending.removeFirst(group.count)
                if group.isEmpty { state.draining = false }
                return (group, expired)
            }
            for job in expired { await job.finish(Overloaded()) }
            if group.isEmpty { return }
            await commit(group)
        }
    }

    private func commit(_ group: [Job]) async {
        let outcomes: [(any Error)?]
        do {
            outcomes = try await sql.withSession { session in
                try await session.raw("BEGIN IMMEDIATE").run()
                var outcomes: [(any Error)?] = []
                outcomes.reserveCapacity(group.count)
                do {
                    for job in group {
                        try await session.raw("SAVEPOINT parley_job").run()
                        do {
                            try await job.run(session)
                            try await session.raw("RELEASE parley_job").run()
                            outcomes.append(nil)
                        } catch {
                            // This job's writes are undone; the group goes on.
                            try await session.raw("ROLLBACK TO parley_job").run()
                            try await session.raw("RELEASE parley_job").run()
                            outcomes.append(error)
                        }
                    }
                    try await session.raw("COMMIT").run()
                } catch {
                    // A savepoint or the COMMIT itself failed (a full disk, say): nothing of the
                    // group was saved, and every caller is told.
                    try? await session.raw("ROLLBACK").run()
                    throw error
                }
                return outcomes
            }
        } catch {
            for job in group { await job.finish(error) }
            return
        }
        state.withLock { state in
            state.commits += 1
            state.transactions += group.count
        }
        commitsCounter.increment()
        transactionsCounter.increment(by: group.count)
        // Announced after COMMIT in commit order: `drain` starts the next group only after this.
        for (job, outcome) in zip(group, outcomes) { await job.finish(outcome) }
    }
}

/// Where a job's body leaves its result for its `finish`. Written once by `run` and read once by
/// `finish`, which `CommitGroup.drain` calls strictly after `run` returned, on the same task:
/// never accessed concurrently.
private final class ResultSlot<R: Sendable>: @unchecked Sendable {
    var value: R?
}
