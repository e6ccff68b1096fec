import Foundation

/// Query parameters read as HTML forms and `URLSearchParams` write them
/// (application/x-www-form-urlencoded): `+` is a space, `%2B` a plus sign. Hummingbird's own
/// `queryParameters` percent-decodes but keeps `+`.
enum FormQuery {
    /// The value of `name` in a raw query string (`request.uri.query`).
    static func value(_ name: String, in query: String?) -> String? {
        guard let query else { return nil }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard decode(parts[0]) == name else { continue }
            return parts.count == 2 ? decode(parts[1]) : ""
        }
        return nil
    }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
