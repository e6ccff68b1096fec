/// The canonical form of an HTTP request that SigV4 signs (AWS "Create a canonical request"):
/// method, URI-encoded path, sorted and encoded query, lower-cased sorted headers, the list of
/// signed headers and the payload's hash (`UNSIGNED-PAYLOAD` for presigned URLs).
struct CanonicalRequest: Sendable, Equatable {
    var method: String
    /// The path as sent, each segment already URI-encoded (`S3Path.encode`).
    var encodedPath: String
    var query: [(String, String)]
    var headers: [(String, String)]
    var payloadHash: String

    static func == (a: CanonicalRequest, b: CanonicalRequest) -> Bool { a.text == b.text }

    /// Header names, lower case, sorted and joined by `;`.
    var signedHeaders: String { sortedHeaders.map(\.0).joined(separator: ";") }

    var text: String {
        var encoded: [(name: String, value: String)] = query.map { (SigV4Encoding.encode($0.0), SigV4Encoding.encode($0.1)) }
        encoded.sort { $0.name == $1.name ? $0.value < $1.value : $0.name < $1.name }
        let canonicalQuery = encoded.map { $0.name + "=" + $0.value }.joined(separator: "&")
        let canonicalHeaders = sortedHeaders.map { "\($0.0):\($0.1)\n" }.joined()
        return [method, encodedPath, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].joined(separator: "\n")
    }

    private var sortedHeaders: [(String, String)] {
        headers.map { (name, value) in
            // Values are trimmed and inner runs of spaces collapsed to one.
            let collapsed = value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            return (name.lowercased(), collapsed)
        }
        .sorted { $0.0 < $1.0 }
    }
}

/// SigV4's URI encoding: every byte but the unreserved characters of RFC 3986 §2.3
/// (`A-Z a-z 0-9 - . _ ~`) as `%XX` with upper-case hex; `/` too, except in a path.
public enum SigV4Encoding {
    public static func encode(_ text: String, keepSlash: Bool = false) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 0x0F)]))
            }
        }
        return out
    }
}
