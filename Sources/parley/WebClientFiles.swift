import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The browser client's files, read once at start and stamped with a version.
///
/// The client refers to its own scripts and styles as `app.js?v=dev`; here every `?v=dev` in
/// an HTML, JavaScript or CSS file becomes `?v=<hash of all the files>`. A release that changes
/// any file therefore changes every static URL, so a proxy (the shipped Caddyfile) may let
/// browsers keep a versioned file for a year without an upgrade leaving them on old code.
/// Files change only with a restart, which is what an upgrade is.
struct WebClientFiles: Sendable {
    struct File: Sendable {
        let body: ByteBuffer
        let contentType: String
        /// A strong validator (RFC 9110 §8.8.3): the hash of the stamped body.
        let etag: String
    }

    static let placeholder = "?v=dev"
    /// Everything under the root together; a client folder past this is a mistake, not a client.
    static let maxTotalBytes = 32 << 20

    let version: String
    let files: [String: File]

    enum LoadError: Error, CustomStringConvertible {
        case tooLarge(String)
        var description: String {
            switch self {
            case .tooLarge(let root): "the web client in \(root) is over \(WebClientFiles.maxTotalBytes >> 20) MiB"
            }
        }
    }

    /// The client compiled into the binary (`web/`, by the EmbedFiles plugin): what an
    /// installed server serves, with nothing to find on disk.
    static func embedded() -> WebClientFiles {
        WebClientFiles(files: EmbeddedWebClient.files.map { ($0.path, Data(base64Encoded: $0.base64) ?? Data()) })
    }

    /// A client folder on disk (`WEB_ROOT`), read once: for working on the client without a rebuild.
    init(root: String) throws {
        let rootURL = URL(fileURLWithPath: root).standardizedFileURL
        var raw: [(path: String, data: Data)] = []
        var total = 0
        let enumerator = FileManager.default.enumerator(at: rootURL, includingPropertiesForKeys: [.isRegularFileKey],
                                                        options: [.skipsHiddenFiles])
        while let url = enumerator?.nextObject() as? URL {
            guard try url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile == true else { continue }
            let relative = String(url.standardizedFileURL.path.dropFirst(rootURL.path.count))
            let data = try Data(contentsOf: url)
            total += data.count
            guard total <= Self.maxTotalBytes else { throw LoadError.tooLarge(root) }
            raw.append((relative.hasPrefix("/") ? relative : "/" + relative, data))
        }
        self.init(files: raw)
    }

    /// Stamps and indexes the files (paths from the client's root, with a leading "/").
    init(files unsorted: [(path: String, data: Data)]) {
        let raw = unsorted.sorted { $0.path < $1.path }
        var digest = SHA256()
        for file in raw {
            digest.update(data: Data(file.path.utf8))
            digest.update(data: Data([0]))
            digest.update(data: file.data)
        }
        let version = Self.hex(digest.finalize()).prefix(12)
        self.version = String(version)

        var files: [String: File] = [:]
        for file in raw {
            let type = Self.contentType(of: file.path)
            var bytes = file.data
            if type.hasPrefix("text/") {
                let text = String(decoding: file.data, as: UTF8.self)
                bytes = Data(text.replacingOccurrences(of: Self.placeholder, with: "?v=\(version)").utf8)
            }
            let etag = "\"" + Self.hex(SHA256.hash(data: bytes)).prefix(16) + "\""
            files[file.path] = File(body: ByteBuffer(bytes: bytes), contentType: type, etag: etag)
        }
        self.files = files
    }

    /// The file a request path names: `/` and folders mean their `index.html`.
    func file(at path: String) -> File? {
        if let file = files[path] { return file }
        let index = path.hasSuffix("/") ? path + "index.html" : path + "/index.html"
        return files[index]
    }

    /// Hummingbird's table of media types by extension (as its FileMiddleware uses), with the
    /// charset on text types: the files here are UTF-8.
    static func contentType(of path: String) -> String {
        guard let type = MediaType.getMediaType(forExtension: (path as NSString).pathExtension.lowercased()) else {
            return "application/octet-stream"
        }
        return type.type == .text ? "\(type); charset=utf-8" : "\(type)"
    }

    private static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}

/// Serves `WebClientFiles` for GET and HEAD requests that no API route answered. A request for
/// the current version (`?v=<version>`) may be cached for good; anything else is revalidated
/// with its ETag each time, so an unversioned URL never shows a stale client.
struct WebClientMiddleware<Context: RequestContext>: RouterMiddleware {
    let files: WebClientFiles

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            guard request.method == .get || request.method == .head, let file = files.file(at: request.uri.path) else {
                throw error
            }
            var headers: HTTPFields = [.contentType: file.contentType, .eTag: file.etag]
            let versioned = request.uri.queryParameters["v"].map { String($0) } == files.version
            headers[.cacheControl] = versioned ? "public, max-age=31536000, immutable" : "no-cache"
            // If-None-Match compares weakly (RFC 9110 §13.1.2): a proxy may have marked it W/.
            if let match = request.headers[.ifNoneMatch], match.split(separator: ",").contains(where: {
                let tag = $0.trimmingCharacters(in: .whitespaces)
                return tag == "*" || (tag.hasPrefix("W/") ? String(tag.dropFirst(2)) : tag) == file.etag
            }) {
                return Response(status: .notModified, headers: headers)
            }
            headers[.contentLength] = String(file.body.readableBytes)
            return Response(status: .ok, headers: headers, body: request.method == .head ? .init() : .init(byteBuffer: file.body))
        }
    }
}
