import ChatAPI
import ChatTestSupport
import Foundation
import SQLKit
import Testing

@Suite("Storage failures and SQLite durability")
struct StorageFailureTests {
    /// Power-loss durability (issue: crash durability): every connection Parley opens runs
    /// WAL with `synchronous=FULL` (2), so COMMIT has synced the log before a send is acknowledged.
    @Test("SQLite runs WAL with synchronous=FULL")
    func synchronousFull() async throws {
        let database = try await TestBackend.sqlite.makeDatabase()
        defer { Task { try? await database.shutdown() } }
        struct Row: Decodable { var synchronous: Int }
        struct Mode: Decodable { var journal_mode: String }
        let rows = try await database.sql.raw("PRAGMA synchronous").all(decoding: Row.self)
        #expect(rows.map(\.synchronous) == [2])
        let modes = try await database.sql.raw("PRAGMA journal_mode").all(decoding: Mode.self)
        #expect(modes.map(\.journal_mode) == ["wal"])
    }

    @Test("a full database is 507 storage_full; a constraint error stays internal")
    func sqliteErrors() async throws {
        let database = try await TestBackend.sqlite.makeDatabase()
        defer { Task { try? await database.shutdown() } }
        try await database.sql.raw("CREATE TABLE filler (id INTEGER PRIMARY KEY, blob BLOB)").run()
        // SQLite's own SQLITE_FULL, as on a full disk: the file may not grow past its pages now.
        struct Count: Decodable { var page_count: Int }
        let pages = try await database.sql.raw("PRAGMA page_count").all(decoding: Count.self)[0].page_count
        try await database.sql.raw("PRAGMA max_page_count=\(unsafeRaw: String(pages + 2))").run()
        var full: (any Error)?
        for index in 0..<64 where full == nil {
            do {
                try await database.sql.raw("INSERT INTO filler (id, blob) VALUES (\(unsafeRaw: String(index)), zeroblob(4000))").run()
            } catch {
                full = error
            }
        }
        let failure = try #require(full.flatMap(StorageFailure.apiError(for:)), "\(String(describing: full))")
        #expect(failure.status.code == 507)
        #expect(failure.code == "storage_full")

        do {
            try await database.sql.raw("INSERT INTO filler (id, blob) VALUES (0, NULL)").run()
            Issue.record("a duplicate key was accepted")
        } catch {
            #expect(StorageFailure.apiError(for: error) == nil, "\(error) is a defect, not a storage failure")
        }
        #expect(StorageFailure.apiError(for: CancellationError()) == nil)
    }

    @Test("an unreachable PostgreSQL is 503 unavailable with Retry-After")
    func unreachable() async throws {
        // Nothing listens on port 9 of loopback: the pool's connection attempt is refused.
        let database = try await Database.open(.postgres(url: "postgres://parley@127.0.0.1:9/none?sslmode=disable"),
                                               logger: TestBackend.logger)
        defer { Task { try? await database.shutdown() } }
        await #expect(throws: (any Error).self) { try await database.sql.raw("SELECT 1").run() }
        do {
            try await database.sql.raw("SELECT 1").run()
        } catch {
            let failure = StorageFailure.apiError(for: error)
            #expect(failure?.code == "unavailable", "\(String(reflecting: error)) was not recognised")
            #expect(failure?.status == .serviceUnavailable)
            #expect(failure?.retryAfter == 5)
        }
    }
}
