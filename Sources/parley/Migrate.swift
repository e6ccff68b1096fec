import ArgumentParser
import ChatAPI
import Foundation
import Logging
import Synchronization

/// `parley migrate`: bring the database schema up to date and exit.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations and exit.")

    func run() async throws {
        let configuration = try loadConfiguration()
        let logger = makeLogger(configuration, label: "parley.migrate")
        let database = try await Database.open(configuration.database, logger: logger)
        do {
            let applied = try await Migrations.run(on: database, logger: logger)
            logger.info("migrations done", metadata: ["applied": "\(applied)"])
        } catch {
            try? await database.shutdown()
            throw error
        }
        try await database.shutdown()
    }
}

/// Reads the configuration, turning a bad value into its message and exit status 78 (EX_CONFIG).
func loadConfiguration() throws -> Configuration {
    do {
        return try Configuration(environment: ProcessInfo.processInfo.environment)
    } catch let error as Configuration.Error {
        FileHandle.standardError.write(Data("parley: configuration: \(error.description)\n".utf8))
        throw ExitCode(78)
    }
}

func makeLogger(_ configuration: Configuration, label: String) -> Logger {
    let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
    let format = configuration.logFormat
    LoggingSystem.bootstrapOnce { label in StructuredLogHandler(label: label, format: format, logLevel: level) }
    return Logger(label: label)
}

extension LoggingSystem {
    private static let bootstrapped = Atomic<Bool>(false)
    /// `bootstrap` may run only once per process; tests and subcommands may ask twice.
    static func bootstrapOnce(_ factory: @escaping @Sendable (String) -> any LogHandler) {
        guard bootstrapped.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        bootstrap(factory)
    }
}
