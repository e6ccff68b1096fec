import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import parley

@Suite("The web client's files, stamped with their version")
struct WebClientFilesTests {
    /// A client folder in a fresh temporary directory.
    private func client(_ files: [String: String]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("parley-web-\(UUID().uuidString)")
        for (path, text) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        return root.path
    }

    private let sample = [
        "index.html": #"<script type="module" src="/js/app.js?v=dev"></script>"#,
        "js/app.js": #"import { x } from "./x.js?v=dev";"#,
        "js/x.js": "export const x = 1;",
        ".hidden": "not served",
    ]

    @Test("the binary carries the whole web/ folder, byte for byte before stamping")
    func embeddedMatchesTheFolder() throws {
        let web = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../web").standardized.path
        let fromDisk = try WebClientFiles(root: web)
        let embedded = try WebClient.files(configuredRoot: nil)
        #expect(embedded.source == "built in")
        #expect(embedded.files.version == fromDisk.version)
        #expect(Set(embedded.files.files.keys) == Set(fromDisk.files.keys))
        #expect(embedded.files.file(at: "/") != nil)
        #expect(embedded.files.files.keys.contains("/js/app.js"))
    }

    @Test("a WEB_ROOT without an index.html stops the start, naming the variable")
    func missingWebRootIsRefused() throws {
        let empty = try client(["js/app.js": "export {};"])
        #expect { _ = try WebClient.files(configuredRoot: empty) } throws: {
            ($0 as? Configuration.Error)?.variable == "WEB_ROOT"
        }
        #expect(try WebClient.files(configuredRoot: client(sample)).source != "built in")
    }

    @Test("every ?v=dev becomes ?v=<hash of all files>, and any change to a file changes it")
    func stamping() throws {
        let files = try WebClientFiles(root: client(sample))
        #expect(files.version.count == 12)
        #expect(files.version.allSatisfy { $0.isHexDigit })
        let app = String(buffer: try #require(files.file(at: "/js/app.js")).body)
        #expect(app == #"import { x } from "./x.js?v=\#(files.version)";"#)
        #expect(files.file(at: "/") != nil, "the folder means its index.html")
        #expect(files.file(at: "/.hidden") == nil)

        var changed = sample
        changed["js/x.js"] = "export const x = 2;"
        #expect(try WebClientFiles(root: client(changed)).version != files.version)
        #expect(try WebClientFiles(root: client(sample)).version == files.version, "the same files, the same version")
    }

    @Test("served after the routes: current version cached for good, else revalidated; ETag gives 304")
    func serving() async throws {
        let files = try WebClientFiles(root: client(sample))
        let router = Router()
        router.get("api") { _, _ in "route" }
        router.add(middleware: WebClientMiddleware(files: files))
        let app = Application(router: router)
        try await app.test(.router) { client in
            try await client.execute(uri: "/api", method: .get) { response in
                #expect(String(buffer: response.body) == "route")
            }
            try await client.execute(uri: "/js/app.js?v=\(files.version)", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/javascript; charset=utf-8")
                #expect(response.headers[.cacheControl] == "public, max-age=31536000, immutable")
            }
            let etag = try await client.execute(uri: "/js/app.js?v=older", method: .get) { response in
                #expect(response.headers[.cacheControl] == "no-cache")
                return try #require(response.headers[.eTag])
            }
            try await client.execute(uri: "/js/app.js", method: .get, headers: [.ifNoneMatch: etag]) { response in
                #expect(response.status == .notModified)
                #expect(response.body.readableBytes == 0)
            }
            try await client.execute(uri: "/js/app.js", method: .get, headers: [.ifNoneMatch: "\"other\", W/\(etag)"]) { response in
                #expect(response.status == .notModified, "weak comparison")
            }
            try await client.execute(uri: "/js/app.js", method: .get, headers: [.ifNoneMatch: "\"other\""]) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/missing.js", method: .get) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/js/app.js", method: .post) { response in
                #expect(response.status == .notFound)
            }
        }
    }
}
