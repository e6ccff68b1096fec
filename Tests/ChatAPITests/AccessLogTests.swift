import ChatAPI
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

/// Log lines a test can read back.
private final class LogRecorder: Sendable {
    struct Line: Sendable {
        let message: String
        let metadata: Logger.Metadata
    }
    let lines = Mutex<[Line]>([])

    struct Handler: LogHandler {
        let recorder: LogRecorder
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 })
            recorder.lines.withLock { $0.append(Line(message: event.message.description, metadata: merged)) }
        }
    }
}

@Suite("Access log")
struct AccessLogTests {
    @Test("one line per request with its request id and status, and never the query")
    func accessLine() async throws {
        let recorder = LogRecorder()
        let router = Router()
        router.add(middleware: RequestIdMiddleware())
        router.add(middleware: AccessLogMiddleware())
        router.add(middleware: ErrorMiddleware())
        router.get("ok") { _, _ in "fine" }
        let logger = Logger(label: "test") { _ in LogRecorder.Handler(recorder: recorder) }
        let app = Application(router: router, logger: logger)
        let requestIds = Mutex<[String]>([])
        try await app.test(.router) { client in
            let missing = try await client.execute(uri: "/missing", method: .get)
            #expect(missing.status == .notFound)
            let ok = try await client.execute(uri: "/ok?token=secret-access-token", method: .get)
            #expect(ok.status == .ok)
            requestIds.withLock { $0.append(ok.headers[HTTPField.Name("X-Request-Id")!] ?? "") }
        }
        let requestId = requestIds.withLock { $0.first ?? "" }
        #expect(!requestId.isEmpty)
        let lines = recorder.lines.withLock { $0 }.filter { $0.message == "request" }
        #expect(lines.count == 2)
        let ok = try #require(lines.last)
        #expect(ok.metadata["hb.request.id"]?.description == requestId)
        #expect(ok.metadata["path"] == .string("/ok"))
        #expect(ok.metadata["status"]?.description == "200")
        #expect(lines.first?.metadata["status"]?.description == "404")
        for line in recorder.lines.withLock({ $0 }) {
            #expect(!"\(line.metadata)".contains("secret-access-token"))
        }
    }
}
