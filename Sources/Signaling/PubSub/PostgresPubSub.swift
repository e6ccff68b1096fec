import ChatAPI
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import PostgresNIO
import SQLKit

/// The multi-instance bus: PostgreSQL LISTEN/NOTIFY on the database the instances share.
///
/// Chat changes NOTIFY inside their own transaction, so a message is announced only if it
/// commits, and PostgreSQL hands notifications to every listener in commit order; since each
/// message's transaction holds its conversation's row lock, every instance sees a
/// conversation's events in the same order. Payloads over NOTIFY's 8000-byte limit are kept in
/// `bus_spill` and announced by id. The bus owns that table: it creates it when it is made and
/// sweeps it while it runs; the chat's schema knows nothing of it.
public final class PostgresPubSub: PubSub {
    public static let channel = "parley_bus"
    static let inlineLimit = 7000

    private let database: Database
    private let configuration: PostgresConnection.Configuration
    private let logger: Logger

    /// Makes the bus, creating its spill table if the database lacks it.
    public init(database: Database, url: String, logger: Logger) async throws {
        self.database = database
        self.configuration = try SQLPostgresConfiguration(url: url).coreConfiguration
        self.logger = logger
        try await Self.createSpillTable(on: database)
    }

    /// `IF NOT EXISTS`: databases made before the bus owned the table got it from the chat's
    /// migration 2 and keep it as it is. Instances starting together on one database take an
    /// advisory lock first, since concurrent `CREATE TABLE IF NOT EXISTS` statements can still
    /// collide in PostgreSQL's catalog.
    private static func createSpillTable(on database: Database) async throws {
        try await database.transaction { sql in
            try await sql.raw("SELECT pg_advisory_xact_lock(7238292)").run()
            try await sql.raw("""
                CREATE TABLE IF NOT EXISTS bus_spill (id BIGSERIAL PRIMARY KEY, payload TEXT NOT NULL, created_at BIGINT NOT NULL)
                """).run()
        }
    }

    public var isTransactional: Bool { true }

    public func publish(_ message: BusMessage, in transaction: (any SQLDatabase)?) async throws {
        let sql = transaction ?? database.sql
        let json = String(decoding: try JSONEncoder().encode(message), as: UTF8.self)
        let payload: String
        if json.utf8.count <= Self.inlineLimit {
            payload = json
        } else {
            let row = try await sql.raw("""
                INSERT INTO bus_spill (payload, created_at) VALUES (\(bind: json), \(bind: WallClock.system.now().milliseconds))
                RETURNING id
                """).first()
            payload = "spill:\(try row?.decode(column: "id", as: Int64.self) ?? 0)"
        }
        try await sql.raw("SELECT pg_notify(\(bind: Self.channel), \(bind: payload))").run()
    }

    /// Listens on a dedicated connection, reconnecting after a failure.
    public func run(deliver: @escaping @Sendable (BusMessage) -> Void, ready: @escaping @Sendable () -> Void) async throws {
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(
                    on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration,
                    id: 1, logger: logger).get()
                defer { Task { try? await connection.close().get() } }
                try await connection.listen(on: Self.channel) { notifications in
                    ready()
                    for try await notification in notifications {
                        if let message = await self.decode(notification.payload) { deliver(message) }
                    }
                }
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                logger.warning("bus listener lost its connection; reconnecting", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    private func decode(_ payload: String) async -> BusMessage? {
        var json = payload
        if payload.hasPrefix("spill:"), let id = Int64(payload.dropFirst(6)) {
            guard let row = try? await database.sql.raw("SELECT payload FROM bus_spill WHERE id = \(bind: id)").first(),
                  let text = try? row.decode(column: "payload", as: String.self)
            else { return nil }
            json = text
        }
        return try? JSONDecoder().decode(BusMessage.self, from: Data(json.utf8))
    }

    /// Drops spilled payloads a minute old: every listener has read them by then.
    public func sweep() async {
        let cutoff = WallClock.system.now().milliseconds - 60_000
        try? await database.sql.raw("DELETE FROM bus_spill WHERE created_at < \(bind: cutoff)").run()
    }
}
