import ArgumentParser
import ChatAPI
import Foundation
import Logging
import Signaling

/// The chat services as the console commands (`parley admin`, `parley seed-demo`) use them:
/// over the database the configuration names (DATABASE_URL, or DATA_DIR's SQLite file),
/// migrated first, closed after. On PostgreSQL their changes are announced on the instances'
/// bus, so a running server closes a deactivated account's WebSockets at once; on SQLite the
/// server is another process that cannot hear them, and those sockets last until they
/// reconnect (their REST calls and new sockets are refused at once either way).
enum ConsoleServices {
    /// Exit statuses: 1 refused (unknown email, last administrator…), 69 database unreachable
    /// (EX_UNAVAILABLE), 78 bad configuration (EX_CONFIG).
    static let refused: Int32 = 1
    static let unavailable: Int32 = 69

    static func run<R>(_ body: (ChatServices, Configuration) async throws -> R) async throws -> R {
        let configuration = try loadConfiguration()
        var quiet = configuration
        // The command's own output is what matters; the server's info lines would bury it.
        if ProcessInfo.processInfo.environment["LOG_LEVEL"] == nil { quiet.logLevel = "warning" }
        let logger = makeLogger(quiet, label: "parley.console")
        let database: Database
        do {
            database = try await Database.open(configuration.database, logger: logger)
        } catch {
            fail("cannot open the database: \(error)", status: unavailable)
        }
        do {
            try await Migrations.run(on: database, logger: logger)
        } catch {
            try? await database.shutdown()
            fail("cannot reach the database (\(describe(configuration.database))): \(error)", status: unavailable)
        }
        do {
            var events = ChatEventSink.discard
            if case .postgres(let url) = configuration.database {
                events = try await PostgresPubSub(database: database, url: url, logger: logger).eventSink()
            }
            // The console issues no access tokens: a throwaway signing key, so no jwt.key is written.
            let services = await ChatServices(
                database: database, jwtSecret: SecretToken.generate(prefix: "").value, bcryptCost: configuration.bcryptCost,
                events: events, limits: .unlimited, registration: .open)
            let result = try await body(services, configuration)
            try? await database.shutdown()
            return result
        } catch let error as APIError {
            try? await database.shutdown()
            fail(error.message, status: refused)
        } catch let error as ExitCode {
            try? await database.shutdown()
            throw error
        } catch {
            try? await database.shutdown()
            fail("\(error)", status: unavailable)
        }
    }

    static func fail(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data("parley: \(message)\n".utf8))
        exit(status)
    }

    /// The database named without its password.
    static func describe(_ url: DatabaseURL) -> String {
        switch url {
        case .sqlite(let path): return "SQLite \(path)"
        case .postgres(let text):
            guard var components = URLComponents(string: text) else { return "PostgreSQL" }
            components.password = nil
            return "PostgreSQL \(components.host ?? "")\(components.port.map { ":\($0)" } ?? "")\(components.path)"
        }
    }
}
