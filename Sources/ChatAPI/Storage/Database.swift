@preconcurrency import AsyncKit
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import SQLiteKit
import SQLKit

/// The connection pool and the SQLKit handle every store queries through. The same SQL runs
/// on SQLite and PostgreSQL; the few statements that differ (column types in migrations) ask
/// `isPostgres`.
public final class Database: Sendable {
    public let sql: any SQLDatabase
    public let isPostgres: Bool
    private let close: @Sendable () async throws -> Void
    /// SQLite's write transactions, committed in groups (one log sync for all that waited).
    private let commitGroup: CommitGroup?
    /// PostgreSQL's pool, for transactions on one connection.
    private let postgres: ClosingPostgresDatabase?

    private init(sql: any SQLDatabase, postgres: ClosingPostgresDatabase?, close: @escaping @Sendable () async throws -> Void) {
        self.sql = sql
        self.isPostgres = postgres != nil
        self.postgres = postgres
        self.close = close
        self.commitGroup = postgres == nil ? CommitGroup(sql: sql) : nil
    }

    /// Opens a pool. SQLite gets a single connection, in WAL mode: SQLite runs one writer at a
    /// time anyway, and with two connections in one process a transaction can meet
    /// SQLITE_BUSY without its busy handler being consulted (a read upgraded to a write),
    /// which would surface as a failed request; one connection makes writers queue instead.
    public static func open(
        _ url: DatabaseURL,
        postgresSearchPath: [String]? = nil,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) async throws -> Database {
        switch url {
        case .sqlite(let path):
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let source = TunedSQLiteSource(base: SQLiteConnectionSource(
                configuration: .init(storage: .file(path: path), enableForeignKeys: true)))
            let pool = EventLoopGroupConnectionPool(
                source: source, maxConnectionsPerEventLoop: 1, requestTimeout: .seconds(30),
                logger: logger, on: eventLoopGroup)
            let sql = PooledSQLiteDatabase(pool: pool, logger: logger, eventLoop: eventLoopGroup.any()).sql()
            let database = Database(sql: sql, postgres: nil) { try await pool.shutdownAsync() }
            do {
                // WAL is a property of the file: set once, it holds for every connection.
                try await sql.raw("PRAGMA journal_mode=WAL").run()
            } catch {
                try? await database.shutdown()
                throw error
            }
            return database
        case .postgres(let text):
            var configuration = try SQLPostgresConfiguration(url: text)
            configuration.searchPath = postgresSearchPath
            let source = PostgresConnectionSource(sqlConfiguration: configuration)
            let pool = EventLoopGroupConnectionPool(
                source: source, maxConnectionsPerEventLoop: 8, requestTimeout: .seconds(30),
                logger: logger, on: eventLoopGroup)
            let postgres = ClosingPostgresDatabase(base: pool.database(logger: logger))
            return Database(sql: postgres.sql(), postgres: postgres) { try await pool.shutdownAsync() }
        }
    }

    public func shutdown() async throws { try await close() }

    /// SQLite only: COMMITs so far and the write transactions they carried (`CommitGroup`);
    /// nil on PostgreSQL.
    public var groupCommitStatistics: (commits: Int, transactions: Int)? { commitGroup?.statistics }

    /// Runs `body` inside one transaction on one connection; commits when it returns, rolls back
    /// when it throws. Callers acknowledge writes only after this returns, i.e. after COMMIT.
    /// `afterCommit` runs after COMMIT. On SQLite (one connection) it runs before any later
    /// transaction's, so whatever it announces leaves in commit order; there the transaction may
    /// share its COMMIT with others that waited meanwhile (`CommitGroup`) and is still all or
    /// nothing on its own.
    public func transaction<R: Sendable>(
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> R,
        afterCommit: (@Sendable (R) async -> Void)? = nil
    ) async throws -> R {
        if let commitGroup { return try await commitGroup.transaction(body, afterCommit: afterCommit) }
        guard let postgres else { preconditionFailure("a database is SQLite or PostgreSQL") }
        // One connection for the whole transaction; every statement on it, ROLLBACK included,
        // fails rather than hangs if the connection closes (`ClosingPostgresDatabase`).
        return try await postgres.withConnection { connection in
            connection.eventLoop.makeFutureWithTask {
                let session = ClosingPostgresDatabase(base: connection).sql()
                try await session.raw("BEGIN").run()
                let result: R
                do {
                    result = try await body(session)
                    try await session.raw("COMMIT").run()
                } catch {
                    try? await session.raw("ROLLBACK").run()
                    throw error
                }
                await afterCommit?(result)
                return result
            }
        }.get()
    }

    /// True when the database answers a trivial query (for `/readyz`).
    public func ping() async -> Bool {
        do {
            _ = try await sql.raw("SELECT 1 AS one").all()
            return true
        } catch {
            return false
        }
    }
}

/// Opens SQLite connections with the settings Parley relies on: a busy timeout, so that another
/// process holding the file (a backup, `parley migrate`) makes writers wait rather than fail,
/// and `synchronous=FULL`: in WAL mode every COMMIT then syncs the log before it returns, so a
/// message acknowledged to its sender survives a power loss or a kernel crash, not only a crash
/// of the process (which `NORMAL` already survives). It costs one fsync per write transaction;
/// BENCHMARKS.md has acknowledged sends per second with each.
struct TunedSQLiteSource: ConnectionPoolSource {
    let base: SQLiteConnectionSource

    func makeConnection(logger: Logger, on eventLoop: any EventLoop) -> EventLoopFuture<SQLiteConnection> {
        base.makeConnection(logger: logger, on: eventLoop).flatMap { connection in
            connection.query("PRAGMA busy_timeout=10000")
                .flatMap { _ in connection.query("PRAGMA synchronous=FULL") }
                .map { _ in connection }
        }
    }
}
