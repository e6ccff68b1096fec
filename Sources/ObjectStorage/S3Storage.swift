import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Attachments in a bucket of an S3-compatible store. The browser sends and fetches bytes
/// with presigned URLs (SigV4 query authentication), so file bytes never pass through Parley;
/// Parley itself only asks for an object's size (HEAD, to check an upload before a message
/// refers to it) and deletes, with signed `Authorization` headers.
public struct S3Storage: AttachmentStorage {
    public let bucket: StorageLocation.S3Bucket
    let signer: SigV4Signer
    let client: HTTPClient
    let now: @Sendable () -> Date
    /// How long one call to the store may take, connecting (and its retries) included.
    let timeout: TimeAmount
    /// Objects are kept under one prefix, so the bucket can hold other things too.
    static let prefix = "attachments/"

    public init(bucket: StorageLocation.S3Bucket, accessKeyId: String, secretAccessKey: String,
                client: HTTPClient = .shared, timeout: TimeAmount = .seconds(15), now: @escaping @Sendable () -> Date = { Date() }) {
        self.bucket = bucket
        self.signer = SigV4Signer(credentials: SigV4Credentials(
            accessKeyId: accessKeyId, secretAccessKey: secretAccessKey, region: bucket.region))
        self.client = client
        self.timeout = timeout
        self.now = now
    }

    public var browserOrigin: String? { bucket.endpoint }

    var host: String { String(bucket.endpoint.drop(while: { $0 != "/" }).dropFirst(2)) }

    func encodedPath(of key: String) -> String {
        "/" + SigV4Encoding.encode(bucket.bucket) + "/" + SigV4Encoding.encode(Self.prefix + key, keepSlash: true)
    }

    /// Seconds from now until `expiresAt`, within what SigV4 allows (1 s to 7 days).
    private func lifetime(until expiresAt: Int64, from time: Date) -> Int {
        Int(max(1, min(604_800, expiresAt - Int64(time.timeIntervalSince1970))))
    }

    public func uploadTarget(key: String, size: Int64, contentType: String, expiresAt: Int64, origin: String) -> UploadTarget {
        let time = now()
        let path = encodedPath(of: key)
        // The length and type are signed: the store refuses a body of another size.
        let query = signer.presignedQuery(
            method: "PUT", host: host, encodedPath: path, time: SigV4Timestamp(time), expires: lifetime(until: expiresAt, from: time),
            signedHeaders: [("content-length", String(size)), ("content-type", contentType)])
        return UploadTarget(method: "PUT", url: bucket.endpoint + path + "?" + query, headers: ["Content-Type": contentType])
    }

    public func download(key: String, disposition: String, contentType: String, expiresAt: Int64) -> DownloadSource {
        let time = now()
        let path = encodedPath(of: key)
        // The store answers with the headers Parley would have sent itself.
        let query = signer.presignedQuery(
            method: "GET", host: host, encodedPath: path, time: SigV4Timestamp(time), expires: lifetime(until: expiresAt, from: time),
            query: [("response-content-disposition", disposition), ("response-content-type", contentType)])
        return .redirect(url: bucket.endpoint + path + "?" + query)
    }

    public func storedSize(key: String) async throws -> Int64? {
        let response = try await send(method: .HEAD, key: key)
        switch response.status.code {
        case 200:
            guard let length = response.headers.first(name: "content-length").flatMap(Int64.init) else {
                throw S3Error(operation: "HEAD", status: 200, detail: "no Content-Length")
            }
            return length
        case 404: return nil
        default: throw S3Error(operation: "HEAD", status: Int(response.status.code), detail: "")
        }
    }

    public func delete(key: String) async throws {
        let response = try await send(method: .DELETE, key: key)
        guard response.status.code == 204 || response.status.code == 200 || response.status.code == 404 else {
            throw S3Error(operation: "DELETE", status: Int(response.status.code), detail: "")
        }
    }

    /// Whether the bucket's CORS rules let a page of `origin` send an upload (a browser's
    /// preflight for a PUT with a Content-Type) and read a download; for `parley check`.
    public func corsAllows(origin: String) async throws -> Bool {
        var request = HTTPClientRequest(url: bucket.endpoint + encodedPath(of: "parley-check"))
        request.method = .OPTIONS
        request.headers.add(name: "Origin", value: origin)
        request.headers.add(name: "Access-Control-Request-Method", value: "PUT")
        request.headers.add(name: "Access-Control-Request-Headers", value: "content-type")
        let response = try await client.execute(request, timeout: timeout)
        _ = try? await response.body.collect(upTo: 64 * 1024)
        let allowed = response.headers.first(name: "access-control-allow-origin")
        return (200..<300).contains(Int(response.status.code)) && (allowed == "*" || allowed == origin)
    }

    private func send(method: HTTPMethod, key: String) async throws -> HTTPClientResponse {
        let path = encodedPath(of: key)
        var request = HTTPClientRequest(url: bucket.endpoint + path)
        request.method = method
        for (name, value) in signer.authorizationHeaders(method: method.rawValue, host: host, encodedPath: path, time: SigV4Timestamp(now())) {
            request.headers.add(name: name, value: value)
        }
        let response = try await client.execute(request, timeout: timeout)
        // Whatever body an answer has (an error's XML) is read and dropped, so the connection is reused.
        _ = try? await response.body.collect(upTo: 64 * 1024)
        return response
    }
}

/// A store's answer Parley did not expect (a refused signature, a missing bucket).
public struct S3Error: Error, CustomStringConvertible {
    public let operation: String
    public let status: Int
    public let detail: String
    public var description: String { "S3 \(operation) answered \(status)\(detail.isEmpty ? "" : ": \(detail)")" }
}
