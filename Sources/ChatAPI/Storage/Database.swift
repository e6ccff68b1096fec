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

    private init(sql: any SQLDatabase, isPostgres: Bool, close: @escaping @Sendable () async throws -> Void) {
        self.sql = sql
        self.isPostgres = isPostgres
        self.close = close
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
            let database = Database(sql: sql, isPostgres: false) { try await pool.shutdownAsync() }
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
            let sql = pool.database(logger: logger).sql()
            return Database(sql: sql, isPostgres: true) { try await pool.shutdownAsync() }
        }
    }

    public func shutdown() async throws { try await close() }

    /// Runs `body` inside one transaction on one connection; commits when it returns, rolls back
    /// when it throws. Callers acknowledge writes only after this returns, i.e. after COMMIT.
    /// `afterCommit` runs after COMMIT while the connection is still held: with SQLite's single
    /// connection, whatever it announces leaves in commit order.
    public func transaction<R: Sendable>(
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> R,
        afterCommit: (@Sendable (R) async -> Void)? = nil
    ) async throws -> R {
        let begin = isPostgres ? "BEGIN" : "BEGIN IMMEDIATE"
        return try await sql.withSession { session in
            try await session.raw(SQLQueryString(begin)).run()
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
