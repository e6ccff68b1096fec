import AsyncHTTPClient
import ChatAPI
import Foundation
import HTTPTypes
import NIOCore
import ObjectStorage
import Testing

/// The two attachment storages the tests run on: a folder of the test's own, and a bucket of
/// the S3-compatible server (SeaweedFS, which checks SigV4 signatures) that `scripts/test`
/// starts and names in `PARLEY_TEST_S3_URL`, `PARLEY_TEST_S3_ACCESS_KEY` and
/// `PARLEY_TEST_S3_SECRET_KEY`. Without them the S3 cases fail rather than silently skip.
enum TestStorage: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case folder, s3

    var testDescription: String { rawValue }

    func make() throws -> any AttachmentStorage {
        switch self {
        case .folder:
            return try LocalFolderStorage(folder: NSTemporaryDirectory() + "parley-files-\(UUID().uuidString)",
                                          secret: "test-secret-that-is-at-least-32-bytes-long")
        case .s3:
            let environment = ProcessInfo.processInfo.environment
            guard let url = environment["PARLEY_TEST_S3_URL"], let key = environment["PARLEY_TEST_S3_ACCESS_KEY"],
                  let secret = environment["PARLEY_TEST_S3_SECRET_KEY"]
            else {
                Issue.record("PARLEY_TEST_S3_URL is not set: run the tests with scripts/test, which starts an S3-compatible server")
                throw CancellationError()
            }
            guard case .s3(let bucket) = try StorageLocation.parse(url, defaultFolder: "/") else { throw CancellationError() }
            return S3Storage(bucket: bucket, accessKeyId: key, secretAccessKey: secret)
        }
    }
}

extension TestAPI {
    /// Sends `bytes` where an announcement said: through the router for a folder's upload
    /// route, over the network to the store for a presigned URL.
    func upload(_ bytes: [UInt8], to upload: [String: Any]) async throws -> Int {
        let url = try #require(upload["url"] as? String)
        let headers = upload["headers"] as? [String: String] ?? [:]
        if let range = url.range(of: "/attachments/"), url.contains("/content?") {
            var fields = HTTPFields()
            for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
            return Int(try await put(String(url[range.lowerBound...]), bytes: bytes, headers: fields).status.code)
        }
        return try await StoreRequest.send("PUT", url, bytes: bytes, headers: headers).status
    }

    /// Announces and uploads a file to `conversation`; returns the attachment's id.
    func attach(_ bytes: [UInt8], name: String = "notes.txt", contentType: String = "text/plain", to conversation: String,
                as person: Person) async throws -> String {
        let announced = try await request(.post, "/conversations/\(conversation)/attachments", as: person,
                                          json: ["name": name, "size": bytes.count, "contentType": contentType])
        #expect(announced.status == .created, "announce: \(announced.status) \(String(buffer: announced.body))")
        let upload = try #require(announced["upload"] as? [String: Any])
        let status = try await self.upload(bytes, to: upload)
        #expect(status == 204 || status == 200, "upload answered \(status)")
        return try #require((announced["attachment"] as? [String: Any])?["id"] as? String)
    }

    /// A member's download: the bytes served here, or fetched from where the redirect points.
    func download(_ id: String, as person: Person) async throws -> (status: Int, bytes: [UInt8], headers: [String: String]) {
        let reply = try await request(.get, "/attachments/\(id)", as: person)
        var headers: [String: String] = [:]
        for field in reply.headers { headers[field.name.canonicalName] = field.value }
        if reply.status == .found, let location = headers["location"] {
            let fetched = try await StoreRequest.send("GET", location)
            return (fetched.status, fetched.body, fetched.headers)
        }
        return (Int(reply.status.code), Array(reply.body.readableBytesView), headers)
    }
}

/// Plain HTTP to the store, as a browser would send it (no Parley in between).
enum StoreRequest {
    static func send(_ method: String, _ url: String, bytes: [UInt8]? = nil, headers: [String: String] = [:])
        async throws -> (status: Int, body: [UInt8], headers: [String: String])
    {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let bytes { request.body = .bytes(ByteBuffer(bytes: bytes)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
        let body = try await response.body.collect(upTo: 64 << 20)
        var fields: [String: String] = [:]
        for header in response.headers { fields[header.name.lowercased()] = header.value }
        return (Int(response.status.code), Array(body.readableBytesView), fields)
    }
}
