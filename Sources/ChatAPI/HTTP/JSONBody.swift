import Foundation
import Hummingbird
import NIOCore

/// Reading request bodies as untrusted input: at most 64 KiB (413), JSON that must be an
/// object (400 `malformed`), fields of the right type (422 naming the field).
public enum JSONBody {
    public static let maxBytes = 64 * 1024

    public static func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxBytes)
        } catch is NIOTooManyBytesError {
            throw APIError.payloadTooLarge
        }
        return try decode(type, from: Data(buffer.readableBytesView))
    }

    /// Decodes `data`, turning every decoding failure into the client error it stands for.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        // Every request type is a keyed struct, so a body that is not a JSON object fails at the
        // top level (empty coding path), which `fieldError` reports as malformed.
        do {
            return try JSONCoding.decoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw fieldError(error)
        }
    }

    public static func fieldError(_ error: DecodingError) -> APIError {
        switch error {
        case .keyNotFound(let key, let context):
            let path = (context.codingPath + [key]).map(\.stringValue).joined(separator: ".")
            return .invalidField(path, "\(path) is required.")
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).filter { !$0.isEmpty }.joined(separator: ".")
            if path.isEmpty { return .malformed() }
            return .invalidField(path, "\(path) has the wrong type.")
        @unknown default:
            return .malformed()
        }
    }
}

/// Field rules shared by REST and WebSocket input (docs/protocol.md "Conventions").
public enum Validate {
    /// Length in Swift `Character`s within `range`, and not only white space.
    public static func text(_ value: String, field: String, _ range: ClosedRange<Int>) throws {
        try noNUL(value, field: field)
        let count = value.count
        guard range.contains(count) else {
            throw APIError.invalidField(field, "\(field) must be \(range.lowerBound) to \(range.upperBound) characters.")
        }
        guard value.contains(where: { !$0.isWhitespace }) else {
            throw APIError.invalidField(field, "\(field) must not be only white space.")
        }
    }

    public static func content(_ value: String) throws { try text(value, field: "content", 1...4000) }
    public static func displayName(_ value: String) throws { try text(value, field: "displayName", 1...64) }
    public static func title(_ value: String) throws { try text(value, field: "title", 1...100) }

    public static func password(_ value: String, field: String = "password") throws {
        guard (8...128).contains(value.count) else {
            throw APIError.invalidField(field, "\(field) must be 8 to 128 characters.")
        }
        // bcrypt reads the password as a C string and only its first 72 bytes: a NUL would cut it short.
        guard !value.utf8.contains(0) else {
            throw APIError.invalidField(field, "\(field) must not contain a NUL character.")
        }
    }

    /// A plausible address: one `@` with text on both sides, no white space, at most 254 characters.
    /// Returns it lower-cased, the form in which emails are stored and compared.
    public static func email(_ value: String) throws -> String {
        try noNUL(value, field: "email")
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: "@", omittingEmptySubsequences: false)
        guard (3...254).contains(trimmed.count), parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
              !trimmed.contains(where: { $0.isWhitespace || $0.isNewline })
        else {
            throw APIError.invalidField("email", "email must be an address like name@example.com.")
        }
        return trimmed.lowercased()
    }

    /// PostgreSQL text cannot hold U+0000, and no field of this API has a use for it.
    public static func noNUL(_ value: String, field: String) throws {
        guard !value.utf8.contains(0) else {
            throw APIError.invalidField(field, "\(field) must not contain a NUL character.")
        }
    }

    public static func identifier(_ value: String, field: String) throws {
        try noNUL(value, field: field)
        guard (1...64).contains(value.utf8.count) else {
            throw APIError.invalidField(field, "\(field) must be 1 to 64 bytes.")
        }
    }

    public static func avatarURL(_ value: String) throws {
        try noNUL(value, field: "avatarUrl")
        guard (1...2048).contains(value.utf8.count),
              value.hasPrefix("https://") || value.hasPrefix("http://"),
              let url = URL(string: value), url.host != nil
        else {
            throw APIError.invalidField("avatarUrl", "avatarUrl must be an http(s) URL of at most 2048 bytes.")
        }
    }

    /// An optional integer query parameter within `range`, larger values capped at `cap`.
    public static func limit(_ raw: String?, field: String = "limit", default value: Int, cap: Int) throws -> Int {
        guard let raw else { return value }
        guard let number = Int(raw), number >= 1 else {
            throw APIError.invalidField(field, "\(field) must be a positive integer.")
        }
        return min(number, cap)
    }
}
