import Foundation
import Hummingbird
import Logging
import NIOCore

/// Every error becomes the documented error body (`openapi.yaml`, `Error`). Client errors keep
/// their status; a full disk or an unreachable database is told as such (`StorageFailure`);
/// anything else unexpected is logged with the request id and answered with a bare 500
/// `internal`, never a stack trace or an internal message.
public struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch is NIOTooManyBytesError {
            return try APIError.payloadTooLarge.response(from: request, context: context)
        } catch let error as HTTPError {
            return try Self.translate(error).response(from: request, context: context)
        } catch {
            if let failure = StorageFailure.apiError(for: error) {
                context.logger.warning("database unavailable or full", metadata: ["error": "\(error)"])
                return try failure.response(from: request, context: context)
            }
            // The type and description only: request bodies and headers, which may hold secrets, are never logged.
            context.logger.error("unhandled error", metadata: ["error.type": "\(String(reflecting: type(of: error)))", "error": "\(error)"])
            return try APIError.internalError.response(from: request, context: context)
        }
    }

    static func translate(_ error: HTTPError) -> APIError {
        switch error.status {
        case .notFound: .notFound("No such route.")
        case .methodNotAllowed: APIError(.methodNotAllowed, code: "method_not_allowed", message: "Method not allowed on this route.")
        case .contentTooLarge: .payloadTooLarge
        case .badRequest: .malformed(error.body ?? "Bad request.")
        case .unauthorized: .unauthorized()
        default:
            error.status.code < 500
                ? .malformed(error.body ?? error.status.reasonPhrase)
                : .internalError
        }
    }
}

/// Hands each request's id to the client in the `X-Request-Id` response header, so that what a
/// client saw can be matched to the log. The id is the one Hummingbird already puts in the
/// request's logger metadata (`hb.request.id`), so every log line of the request carries it.
public struct RequestIdMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let id = context.logger[metadataKey: "hb.request.id"]?.description ?? String(UInt64.random(in: 0 ... .max), radix: 16)
        var response = try await next(request, context)
        response.headers[.init("X-Request-Id")!] = id
        return response
    }
}

/// Requires `Authorization: Bearer <accessToken>`, verified and with a live login.
public struct AuthMiddleware: RouterMiddleware {
    let auth: AuthService

    public init(auth: AuthService) { self.auth = auth }

    public func handle(_ request: Request, context: ParleyRequestContext,
                       next: (Request, ParleyRequestContext) async throws -> Response) async throws -> Response {
        // The scheme name is case-insensitive (RFC 9110 §11.1).
        guard let header = request.headers[.authorization], header.count > 7, header.prefix(7).lowercased() == "bearer " else {
            throw APIError.unauthorized("Authorization: Bearer <accessToken> is required.")
        }
        var context = context
        context.caller = try await auth.authenticate(bearer: header.dropFirst(7).trimmingCharacters(in: .whitespaces))
        context.logger[metadataKey: "user_id"] = .string(context.caller!.userId)
        return try await next(request, context)
    }
}

/// Limits requests per client address (the auth routes: docs/protocol.md "Authentication").
public struct RateLimitMiddleware: RouterMiddleware {
    let limiter: RateLimiter
    let proxies: TrustedProxies

    public init(limiter: RateLimiter, proxies: TrustedProxies) {
        self.limiter = limiter
        self.proxies = proxies
    }

    public func handle(_ request: Request, context: ParleyRequestContext,
                       next: (Request, ParleyRequestContext) async throws -> Response) async throws -> Response {
        let client = proxies.clientAddress(peer: context.remoteAddress, forwardedFor: request.headers[.init("X-Forwarded-For")!])
        if let retryAfter = limiter.acquire(TrustedProxies.rateLimitKey(client)) { throw APIError.rateLimited(retryAfter: retryAfter) }
        return try await next(request, context)
    }
}
