/// Where attachment bytes are kept: a folder of this server (`LocalFolderStorage`) or a bucket
/// of an S3-compatible store (`S3Storage`). Parley hands out where to send and fetch the bytes,
/// checks what was stored and deletes; with S3 the bytes never pass through Parley.
public protocol AttachmentStorage: Sendable {
    /// Where and how the client sends the bytes of the object `key`: `size` bytes of
    /// `contentType`, until `expiresAt` (seconds since 1970). `origin` is this server's public
    /// origin, for a folder's upload route.
    func uploadTarget(key: String, size: Int64, contentType: String, expiresAt: Int64, origin: String) -> UploadTarget

    /// How a member gets the bytes of `key`: served from here, or a redirect to a URL valid
    /// until `expiresAt` that makes the store answer with these headers.
    func download(key: String, disposition: String, contentType: String, expiresAt: Int64) -> DownloadSource

    /// The size of the stored object, or nil when nothing (complete) is stored under `key`.
    func storedSize(key: String) async throws -> Int64?

    /// Removes `key`; removing what is not there succeeds.
    func delete(key: String) async throws

    /// The origin browsers send and fetch bytes at when it is not Parley's own (for the web
    /// client's Content-Security-Policy), or nil.
    var browserOrigin: String? { get }
}

/// An upload's destination as the API reports it (`upload` of `POST .../attachments`).
public struct UploadTarget: Sendable, Equatable {
    public var method: String
    public var url: String
    public var headers: [String: String]
}

public enum DownloadSource: Sendable, Equatable {
    /// Parley serves the file at this path.
    case file(path: String)
    /// A short-lived URL of the store.
    case redirect(url: String)
}
