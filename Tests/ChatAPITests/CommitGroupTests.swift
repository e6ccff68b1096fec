import ChatAPI
import ChatTestSupport
import Foundation
import SQLKit
import Synchronization
import Testing

/// SQLite's group commit (`CommitGroup`): transactions that wait while another commits share
/// the next COMMIT, each still all or nothing, announced in commit order.
@Suite("SQLite group commit")
struct CommitGroupTests {
    struct Failure: Error, Equatable { var index: Int }

    @Test("concurrent transactions share COMMITs; one that throws is undone alone; afterCommit runs in commit order")
    func groups() async throws {
        let database = try await TestBackend.sqlite.makeDatabase()
        defer { Task { try? await database.shutdown() } }
        try await database.sql.raw("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, job INTEGER NOT NULL)").run()
        let before = try #require(database.groupCommitStatistics)
        let announced = Announced()

        let outcomes = await withTaskGroup(of: (Int, Result<Int, Failure>).self) { group in
            for index in 0..<200 {
                group.addTask {
                    do {
                        let job = try await database.transaction({ sql in
                            // Two statements, so a rollback has something to undo.
                            try await sql.raw("INSERT INTO t (job) VALUES (\(bind: index))").run()
                            try await sql.raw("INSERT INTO t (job) VALUES (\(bind: index + 1000))").run()
                            if index % 7 == 3 { throw Failure(index: index) }
                            return index
                        }, afterCommit: { job in announced.append(job) })
                        return (index, .success(job))
                    } catch let error as Failure {
                        return (index, .failure(error))
                    } catch {
                        Issue.record("unexpected \(error)")
                        return (index, .failure(Failure(index: -1)))
                    }
                }
            }
            var all: [Int: Result<Int, Failure>] = [:]
            for await (index, outcome) in group { all[index] = outcome }
            return all
        }

        struct Row: Decodable { var id: Int; var job: Int }
        let rows = try await database.sql.raw("SELECT id, job FROM t ORDER BY id").all(decoding: Row.self)
        let committed = rows.map(\.job).filter { $0 < 1000 }
        for index in 0..<200 {
            if index % 7 == 3 {
                #expect(outcomes[index] == .failure(Failure(index: index)))
                #expect(!rows.contains { $0.job == index || $0.job == index + 1000 }, "job \(index) threw but left rows")
            } else {
                #expect(outcomes[index] == .success(index))
                #expect(rows.filter { $0.job == index || $0.job == index + 1000 }.count == 2, "job \(index) lost a row")
            }
        }
        // Announced once each, in the order their rows were written (commit order).
        #expect(announced.jobs == committed)
        let after = try #require(database.groupCommitStatistics)
        #expect(after.transactions - before.transactions == 200)
        #expect(after.commits - before.commits < 200, "no COMMIT was shared: \(after.commits - before.commits) for 200")
    }

    @Test("a failed COMMIT fails every transaction of its group, and nothing of it is saved")
    func failedCommit() async throws {
        let database = try await TestBackend.sqlite.makeDatabase()
        defer { Task { try? await database.shutdown() } }
        try await database.sql.raw("CREATE TABLE t (id INTEGER PRIMARY KEY, blob BLOB)").run()
        struct Count: Decodable { var page_count: Int }
        let pages = try await database.sql.raw("PRAGMA page_count").all(decoding: Count.self)[0].page_count
        try await database.sql.raw("PRAGMA max_page_count=\(unsafeRaw: String(pages + 4))").run()
        // Each transaction alone fits; the database cannot hold them all.
        let results = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<40 {
                group.addTask {
                    (try? await database.transaction { sql in
                        try await sql.raw("INSERT INTO t (id, blob) VALUES (\(bind: index), zeroblob(3000))").run()
                    }) != nil
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        struct Id: Decodable { var id: Int }
        let stored = try await database.sql.raw("SELECT id FROM t").all(decoding: Id.self)
        #expect(results.filter { $0 }.count == stored.count, "acknowledged \(results.filter { $0 }.count), stored \(stored.count)")
        #expect(results.contains(false), "the database never filled up")
        // Space back: writes work again.
        try await database.sql.raw("PRAGMA max_page_count=1000000").run()
        try await database.transaction { sql in try await sql.raw("INSERT INTO t (id, blob) VALUES (1000, NULL)").run() }
    }
}

/// The jobs whose `afterCommit` ran, in the order it ran.
private final class Announced: Sendable {
    private let list = Mutex<[Int]>([])
    func append(_ job: Int) { list.withLock { $0.append(job) } }
    var jobs: [Int] { list.withLock { $0 } }
}

/// What waits for SQLite is bounded: a full queue refuses at once, and a transaction that waited
/// past the limit is refused instead of run; both are 503 `unavailable`, and nothing is written.
@Suite("SQLite group commit under overload")
struct CommitGroupOverloadTests {
    @Test("past maximumPending a transaction is refused at once; past maximumWait it is refused, not run")
    func bounds() async throws {
        let database = try await TestBackend.sqlite.makeDatabase()
        defer { Task { try? await database.shutdown() } }
        try await database.sql.raw("CREATE TABLE t (job INTEGER NOT NULL)").run()
        let clock = ManualInstant()
        let group = CommitGroup(sql: database.sql, maximumPending: 3, maximumWait: .seconds(30), now: { clock.now })
        let (gate, open) = AsyncStream<Void>.makeStream()

        // The first transaction holds the group (and so SQLite's one connection) until the gate opens.
        let holder = Task {
            try await group.transaction { sql in
                for await _ in gate { break }
                try await sql.raw("INSERT INTO t (job) VALUES (0)").run()
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        let waiting = (1...3).map { index in
            Task { try await group.transaction { sql in try await sql.raw("INSERT INTO t (job) VALUES (\(bind: index))").run() } }
        }
        try await Task.sleep(for: .milliseconds(200))
        // Three wait: the fourth is refused at once.
        do {
            try await group.transaction { sql in try await sql.raw("INSERT INTO t (job) VALUES (4)").run() }
            Issue.record("a transaction past maximumPending was accepted")
        } catch {
            #expect(error is CommitGroup.Overloaded)
            #expect(StorageFailure.apiError(for: error)?.code == "unavailable")
        }
        // They have now waited 31 s: refused when their turn comes, never run.
        clock.advance(.seconds(31))
        open.yield()
        open.finish()
        try await holder.value
        for task in waiting {
            await #expect(throws: CommitGroup.Overloaded.self) { try await task.value }
        }
        struct Row: Decodable { var job: Int }
        #expect(try await database.sql.raw("SELECT job FROM t").all(decoding: Row.self).map(\.job) == [0])
        // And the group works again afterwards.
        try await group.transaction { sql in try await sql.raw("INSERT INTO t (job) VALUES (5)").run() }
    }
}

/// A clock the test moves by hand.
private final class ManualInstant: Sendable {
    private let offset = Mutex<Duration>(.zero)
    private let start = ContinuousClock.now
    var now: ContinuousClock.Instant { start + offset.withLock { $0 } }
    func advance(_ by: Duration) { offset.withLock { $0 += by } }
}
