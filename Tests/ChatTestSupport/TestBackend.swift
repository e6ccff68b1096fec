import ChatAPI
import Foundation
import Logging
import PostgresKit
import SQLKit
import Synchronization
import Testing

/// Shared by the ChatAPI and Signaling test targets.
///
/// The two storage backends every API and storage test runs against. PostgreSQL comes from
/// `PARLEY_TEST_POSTGRES_URL`, which `scripts/test` sets after starting a real server; without
/// it the PostgreSQL cases fail rather than silently skip.
public enum TestBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    public var testDescription: String { rawValue }

    public static let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return logger
    }()

    /// A fresh, migrated, empty database: a new SQLite file, or a new PostgreSQL schema;
    /// migrated only up to `version` when given (tests of an upgrade).
    public func makeDatabase(migratedThrough version: Int = .max) async throws -> Database {
        switch self {
        case .sqlite:
            let path = FileManager.default.temporaryDirectory
                .appendingPathComponent("parley-test-\(UUID().uuidString)/parley.db").path
            let database = try await Database.open(.sqlite(path: path), logger: Self.logger)
            try await Migrations.run(on: database, logger: Self.logger, through: version)
            return database
        case .postgres:
            guard let url = ProcessInfo.processInfo.environment["PARLEY_TEST_POSTGRES_URL"] else {
                Issue.record("PARLEY_TEST_POSTGRES_URL is not set: run the tests with scripts/test, which starts PostgreSQL")
                throw CancellationError()
            }
            let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            let admin = try await Database.open(.postgres(url: url), logger: Self.logger)
            try await admin.sql.raw("CREATE SCHEMA \(unsafeRaw: schema)").run()
            try await admin.shutdown()
            let database = try await Database.open(.postgres(url: url), postgresSearchPath: [schema], logger: Self.logger)
            try await Migrations.run(on: database, logger: Self.logger, through: version)
            return database
        }
    }
}

/// A clock the tests move by hand.
public final class TestClock: Sendable {
    public init() {}
    private let milliseconds = Mutex<Int64>(1_795_000_000_000)

    public var wallClock: WallClock { WallClock { [self] in Timestamp(milliseconds: milliseconds.withLock { $0 }) } }

    public func advance(seconds: Int64) { milliseconds.withLock { $0 += seconds * 1000 } }
}

