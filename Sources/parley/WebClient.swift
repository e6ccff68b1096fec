import Foundation
import HTTPTypes
import Hummingbird

/// Serving the browser client (`web/`) from the same origin as the API.
enum WebClient {
    /// The client's files: the copy compiled into the binary, or the folder `WEB_ROOT` names
    /// (for working on the client without a rebuild). A `WEB_ROOT` without an `index.html` is
    /// a mistake worth stopping for, not a reason to serve something else.
    static func files(configuredRoot: String?) throws -> (files: WebClientFiles, source: String) {
        guard let root = configuredRoot else { return (.embedded(), "built in") }
        guard FileManager.default.fileExists(atPath: (root as NSString).appendingPathComponent("index.html")) else {
            throw Configuration.Error(variable: "WEB_ROOT", problem: "'\(root)' has no index.html")
        }
        return (try WebClientFiles(root: root), root)
    }

    /// The Content-Security-Policy of the client's pages: its own scripts, styles and images
    /// only, no inline script or style, connections (REST and the WebSocket) to its own origin
    /// and, with S3 storage, to the store (uploads and downloads go there directly), media from
    /// the peer connections (`blob:`/`mediastream:`), never framed.
    static func contentSecurityPolicy(storageOrigin: String?) -> String {
        [
            "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:",
            "media-src 'self' blob: mediastream:", "connect-src 'self'" + (storageOrigin.map { " " + $0 } ?? ""),
            "font-src 'self'", "manifest-src 'self'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
        ].joined(separator: "; ")
    }
}

/// Adds the browser security headers to every response: the CSP above on HTML, and
/// `nosniff`, a strict referrer policy and no framing everywhere.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    let contentSecurityPolicy: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        if response.headers[.contentType]?.hasPrefix("text/html") == true {
            response.headers[.contentSecurityPolicy] = contentSecurityPolicy
            response.headers[.cacheControl] = "no-cache"
        }
        return response
    }
}
