import Foundation
import HTTPTypes
import Hummingbird

/// Serving the browser client (`web/`, DESIGN.md) from the same origin as the API.
enum WebClient {
    /// The client's folder: `WEB_ROOT` if set, else `web` in the working directory, else the
    /// `web` folder of the checkout the binary was built in (`.build/<config>/parley`).
    static func root(configured: String?) -> String? {
        var candidates: [String] = []
        if let configured { candidates.append(configured) }
        candidates.append(FileManager.default.currentDirectoryPath + "/web")
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        candidates.append(executable.deletingLastPathComponent().appendingPathComponent("../../web").standardized.path)
        candidates.append(executable.deletingLastPathComponent().appendingPathComponent("../../../web").standardized.path)
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/index.html") }
    }

    /// The Content-Security-Policy of the client's pages: its own scripts, styles and images
    /// only, no inline script or style, connections (REST and the WebSocket) to its own origin,
    /// media from the peer connections (`blob:`/`mediastream:`), never framed.
    static let contentSecurityPolicy = [
        "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:",
        "media-src 'self' blob: mediastream:", "connect-src 'self'", "font-src 'self'", "manifest-src 'self'",
        "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
    ].joined(separator: "; ")
}

/// Adds the browser security headers to every response: the CSP above on HTML, and
/// `nosniff`, a strict referrer policy and no framing everywhere.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        if response.headers[.contentType]?.hasPrefix("text/html") == true {
            response.headers[.contentSecurityPolicy] = WebClient.contentSecurityPolicy
            response.headers[.cacheControl] = "no-cache"
        }
        return response
    }
}
