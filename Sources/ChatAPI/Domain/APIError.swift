import Hummingbird
import NIOCore

/// An error a client caused or may see, carrying the status and body of the error convention
/// (docs/protocol.md "Errors"): `{"error": {"code", "message", "field"?}}`.
///
/// Every failure that reaches a client goes through this type, so no response ever carries
/// a stack trace or an internal detail.
public struct APIError: Error, Sendable, Equatable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var field: String?
    public var retryAfter: Int?

    public init(_ status: HTTPResponse.Status, code: String, message: String, field: String? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.retryAfter = retryAfter
    }

    public static func malformed(_ message: String = "The body is not a JSON object.") -> APIError {
        APIError(.badRequest, code: "malformed", message: message)
    }
    public static func unauthorized(_ message: String = "Missing, invalid, expired or revoked token.") -> APIError {
        APIError(.unauthorized, code: "unauthorized", message: message)
    }
    public static let invalidCredentials = APIError(.unauthorized, code: "invalid_credentials", message: "Wrong email or password.")
    public static let tokenReused = APIError(
        .unauthorized, code: "token_reused",
        message: "This refresh token was already used; the login has been revoked. Sign in again.")
    public static func forbidden(_ message: String) -> APIError {
        APIError(.forbidden, code: "forbidden", message: message)
    }
    public static func notFound(_ message: String = "Not found.") -> APIError {
        APIError(.notFound, code: "not_found", message: message)
    }
    public static func conflict(_ code: String = "conflict", _ message: String) -> APIError {
        APIError(.conflict, code: code, message: message)
    }
    public static let payloadTooLarge = APIError(
        .contentTooLarge, code: "payload_too_large", message: "The request body is larger than 64 KiB.")
    public static func invalidField(_ field: String, _ message: String) -> APIError {
        APIError(.unprocessableContent, code: "invalid_field", message: message, field: field)
    }
    public static func rateLimited(retryAfter: Int) -> APIError {
        APIError(.tooManyRequests, code: "rate_limited", message: "Too many requests; retry in \(retryAfter) s.", retryAfter: retryAfter)
    }
    public static let internalError = APIError(.internalServerError, code: "internal", message: "Internal server error.")

    /// The JSON body of this error, as docs/protocol.md "Errors" spells it.
    public var body: ErrorBody {
        ErrorBody(error: .init(code: code, message: message, field: field))
    }

    public struct ErrorBody: Codable, Sendable, Equatable {
        public struct Detail: Codable, Sendable, Equatable {
            public var code: String
            public var message: String
            public var field: String?
        }
        public var error: Detail
    }
}

extension APIError: HTTPResponseError {
    public var headers: HTTPFields {
        var fields: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let retryAfter { fields[.retryAfter] = String(retryAfter) }
        return fields
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = try JSONCoding.encoder.encode(body)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
