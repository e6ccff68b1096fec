import Foundation
import Hummingbird
import Logging
import NIOCore

/// One `info` line per HTTP request: the request id the response carries (`X-Request-Id`,
/// logged as `hb.request.id`), the method, the path, the final status and the time taken.
///
/// The path is logged without its query: `/ws?token=` puts an access token there, and nothing
/// that could be a credential may reach a log. For the same reason the secrets that live in
/// paths are masked: a webhook's URL secret and an invitation code. Headers and bodies are
/// never logged.
public struct AccessLogMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            log(request, context: context, status: Int(response.status.code), started: started)
            return response
        } catch {
            // Errors are turned into responses further in; what reaches here is the server
            // giving up on the request (a closed connection, for one).
            log(request, context: context, status: (error as? HTTPError).map { Int($0.status.code) } ?? 500, started: started)
            throw error
        }
    }

    private func log(_ request: Request, context: Context, status: Int, started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(elapsed.components.seconds) * 1_000 + Double(elapsed.components.attoseconds) / 1e15
        context.logger.info("request", metadata: [
            "method": .string(request.method.rawValue),
            "path": .string(Self.loggablePath(request.uri.path)),
            "status": .stringConvertible(status),
            "duration_ms": .string(String(format: "%.2f", milliseconds)),
        ])
    }

    /// The path with the secrets some paths hold masked: `/hooks/{id}/{secret}` and
    /// `/admin/invites/{code}` (which may be a code).
    static func loggablePath(_ path: String) -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count >= 4, parts[1] == "hooks" { return "/hooks/\(parts[2])/***" }
        if parts.count >= 4, parts[1] == "admin", parts[2] == "invites" { return "/admin/invites/***" }
        return path
    }
}
