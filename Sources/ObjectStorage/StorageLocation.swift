import Foundation

/// Where attachment bytes live, from `STORAGE_URL`: a folder (`file:///var/lib/parley/files`,
/// the default under `DATA_DIR`) or a bucket of an S3-compatible store
/// (`s3://BUCKET?endpoint=https://...&region=NAME`, keys from `S3_ACCESS_KEY_ID` and
/// `S3_SECRET_ACCESS_KEY`). Addressed path-style (`endpoint/BUCKET/KEY`), which AWS, R2,
/// MinIO and Oracle's S3 API all accept.
public enum StorageLocation: Sendable, Equatable {
    case folder(path: String)
    case s3(S3Bucket)

    public struct S3Bucket: Sendable, Equatable {
        public var bucket: String
        /// `https://host[:port]` (or `http://` for a store on loopback), no path.
        public var endpoint: String
        public var region: String

        public init(bucket: String, endpoint: String, region: String) {
            self.bucket = bucket
            self.endpoint = endpoint
            self.region = region
        }
    }

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public let problem: String
        public var description: String { problem }
    }

    /// Parses a `STORAGE_URL`; `defaultFolder` is used when it is unset.
    public static func parse(_ text: String?, defaultFolder: String) throws -> StorageLocation {
        guard let text, !text.isEmpty else { return .folder(path: defaultFolder) }
        if text.hasPrefix("file://") {
            let path = String(text.dropFirst("file://".count))
            guard path.hasPrefix("/") else { throw ParseError(problem: "'\(text)' must name an absolute folder, like file:///var/lib/parley/files") }
            return .folder(path: path)
        }
        guard text.hasPrefix("s3://"), let components = URLComponents(string: text), let bucket = components.host, !bucket.isEmpty
        else { throw ParseError(problem: "'\(text)' must be file:///FOLDER or s3://BUCKET?endpoint=URL&region=NAME") }
        guard components.path.isEmpty || components.path == "/" else {
            throw ParseError(problem: "'\(text)' must name a bucket only (no path after it)")
        }
        guard bucket.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" || $0 == "." }), (3...63).contains(bucket.count) else {
            throw ParseError(problem: "bucket '\(bucket)' must be 3 to 63 lower-case letters, digits, dots or hyphens")
        }
        let items = components.queryItems ?? []
        func item(_ name: String) -> String? { items.first { $0.name == name }?.value.flatMap { $0.isEmpty ? nil : $0 } }
        let region = item("region") ?? "us-east-1"
        guard let endpointText = item("endpoint") else {
            throw ParseError(problem: "'\(text)' needs ?endpoint=https://... (AWS: https://s3.REGION.amazonaws.com)")
        }
        var endpoint = endpointText.hasSuffix("/") ? String(endpointText.dropLast()) : endpointText
        guard let url = URLComponents(string: endpoint), let scheme = url.scheme, scheme == "https" || scheme == "http",
              url.host?.isEmpty == false, url.path.isEmpty, url.query == nil
        else { throw ParseError(problem: "endpoint '\(endpointText)' must be an origin like https://s3.example.com (no path)") }
        endpoint = "\(scheme)://\(url.host!)" + (url.port.map { ":\($0)" } ?? "")
        return .s3(S3Bucket(bucket: bucket, endpoint: endpoint, region: region))
    }
}
