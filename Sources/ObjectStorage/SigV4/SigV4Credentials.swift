/// The key pair and scope a request to an S3-compatible store is signed with (AWS Signature
/// Version 4). The secret never leaves this value: it is not printed, and only the derived
/// signing key is used per request.
public struct SigV4Credentials: Sendable, Equatable, CustomStringConvertible {
    public let accessKeyId: String
    let secretAccessKey: String
    public let region: String
    /// The service named in the credential scope: `s3` for every S3-compatible store.
    public let service: String

    public init(accessKeyId: String, secretAccessKey: String, region: String, service: String = "s3") {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.region = region
        self.service = service
    }

    public var description: String { "SigV4Credentials(\(accessKeyId), \(region), secret hidden)" }
}
