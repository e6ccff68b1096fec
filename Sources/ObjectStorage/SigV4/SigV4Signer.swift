import Crypto
import Foundation

/// AWS Signature Version 4 for S3-compatible stores: presigned URLs (query-string
/// authentication, which the browser uses to send and fetch bytes without Parley in between)
/// and the `Authorization` header (the few calls Parley makes itself: HEAD, DELETE).
/// Both follow AWS's "Signature Version 4 signing process"; the tests use the examples of
/// Amazon S3's "Authenticating Requests (AWS Signature Version 4)" pages.
public struct SigV4Signer: Sendable {
    public static let algorithm = "AWS4-HMAC-SHA256"
    /// Presigned URLs do not sign the body: the browser sends it after the URL was made.
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// SHA-256 of the empty body, for HEAD and DELETE.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    public let credentials: SigV4Credentials

    public init(credentials: SigV4Credentials) { self.credentials = credentials }

    /// The query string (without `?`) that makes `method host encodedPath` a presigned request
    /// valid for `expires` seconds from `time`. `signedHeaders` are headers the client must send
    /// with exactly these values (`content-type`, `content-length`); `host` is always signed.
    public func presignedQuery(method: String, host: String, encodedPath: String, time: SigV4Timestamp,
                               expires: Int, signedHeaders: [(String, String)] = [], query: [(String, String)] = []) -> String {
        let headers = [("host", host)] + signedHeaders
        var request = CanonicalRequest(method: method, encodedPath: encodedPath, query: query, headers: headers,
                                       payloadHash: Self.unsignedPayload)
        let authQuery = [
            ("X-Amz-Algorithm", Self.algorithm),
            ("X-Amz-Credential", "\(credentials.accessKeyId)/\(scope(time))"),
            ("X-Amz-Date", time.amzDate),
            ("X-Amz-Expires", String(expires)),
            ("X-Amz-SignedHeaders", request.signedHeaders),
        ]
        request.query = query + authQuery
        let signature = sign(request, time: time)
        return (request.query + [("X-Amz-Signature", signature)])
            .map { "\(SigV4Encoding.encode($0.0))=\(SigV4Encoding.encode($0.1))" }
            .joined(separator: "&")
    }

    /// The headers to add to a request Parley sends itself: `x-amz-date`,
    /// `x-amz-content-sha256` and `Authorization`. `headers` are the request's other headers to
    /// sign (`host` is added).
    public func authorizationHeaders(method: String, host: String, encodedPath: String, query: [(String, String)] = [],
                                     headers: [(String, String)] = [], payloadHash: String = emptyPayloadHash,
                                     time: SigV4Timestamp) -> [(String, String)] {
        let added = [("x-amz-content-sha256", payloadHash), ("x-amz-date", time.amzDate)]
        let request = CanonicalRequest(method: method, encodedPath: encodedPath, query: query,
                                       headers: [("host", host)] + headers + added, payloadHash: payloadHash)
        let signature = sign(request, time: time)
        let authorization = "\(Self.algorithm) Credential=\(credentials.accessKeyId)/\(scope(time)), "
            + "SignedHeaders=\(request.signedHeaders), Signature=\(signature)"
        return added + [("Authorization", authorization)]
    }

    func scope(_ time: SigV4Timestamp) -> String {
        "\(time.date)/\(credentials.region)/\(credentials.service)/aws4_request"
    }

    func stringToSign(_ request: CanonicalRequest, time: SigV4Timestamp) -> String {
        let hash = SHA256.hash(data: Data(request.text.utf8)).hex
        return [Self.algorithm, time.amzDate, scope(time), hash].joined(separator: "\n")
    }

    func sign(_ request: CanonicalRequest, time: SigV4Timestamp) -> String {
        let key = signingKey(date: String(time.date))
        return HMAC<SHA256>.authenticationCode(for: Data(stringToSign(request, time: time).utf8), using: key).hex
    }

    /// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
    func signingKey(date: String) -> SymmetricKey {
        var key = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [date, credentials.region, credentials.service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return key
    }
}

extension Sequence where Element == UInt8 {
    /// Lower-case hex, as SigV4 writes hashes and signatures.
    var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for byte in self { out.append(digits[Int(byte >> 4)]); out.append(digits[Int(byte & 0x0F)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
