import Crypto
import Foundation

/// Attachments as files in one folder of this server (`DATA_DIR/files` by default). The
/// browser sends an upload to Parley's own upload route with a URL that carries its own
/// permission: an HMAC over the object, its size, its type and the URL's expiry, so the route
/// needs no session and a URL cannot be reused for another object or size. Bytes are streamed
/// to `KEY.part` and renamed to `KEY` once complete, so a stored file is always whole.
public struct LocalFolderStorage: AttachmentStorage {
    public let folder: String
    private let uploadKey: SymmetricKey

    /// `secret` is the server's signing secret (the JWT key); the upload key is derived from it
    /// so the two never sign each other's messages.
    public init(folder: String, secret: String) throws {
        self.folder = folder
        let derived = HMAC<SHA256>.authenticationCode(for: Data("parley attachment upload v1".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        uploadKey = SymmetricKey(data: Data(derived))
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
    }

    public var browserOrigin: String? { nil }

    public func uploadTarget(key: String, size: Int64, contentType: String, expiresAt: Int64, origin: String) -> UploadTarget {
        let signature = uploadSignature(key: key, size: size, contentType: contentType, expiresAt: expiresAt)
        return UploadTarget(
            method: "PUT", url: "\(origin)/attachments/\(key)/content?expires=\(expiresAt)&signature=\(signature)",
            headers: ["Content-Type": contentType])
    }

    /// Whether an upload URL's `signature` is this server's for these values and `expiresAt`
    /// has not passed at `now` (seconds since 1970).
    public func acceptsUpload(key: String, size: Int64, contentType: String, expiresAt: Int64, signature: String, now: Int64) -> Bool {
        guard now <= expiresAt else { return false }
        let expected = Array(uploadSignature(key: key, size: size, contentType: contentType, expiresAt: expiresAt).utf8)
        let given = Array(signature.utf8)
        // Compared in constant time: the signature is a secret until checked.
        guard expected.count == given.count else { return false }
        return zip(expected, given).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    private func uploadSignature(key: String, size: Int64, contentType: String, expiresAt: Int64) -> String {
        let message = "PUT\n\(key)\n\(size)\n\(contentType)\n\(expiresAt)"
        return HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: uploadKey).hex
    }

    public func download(key: String, disposition: String, contentType: String, expiresAt: Int64) -> DownloadSource {
        .file(path: path(of: key))
    }

    /// Where a complete object lies.
    public func path(of key: String) -> String { (folder as NSString).appendingPathComponent(Self.fileName(key)) }
    /// Where an upload is written until it is complete.
    public func partialPath(of key: String) -> String { path(of: key) + ".part" }

    /// Makes the upload written to `partialPath(of:)` the object.
    public func complete(key: String) throws {
        guard rename(partialPath(of: key), path(of: key)) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    public func storedSize(key: String) async throws -> Int64? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path(of: key)),
              let size = attributes[.size] as? NSNumber
        else { return nil }
        return size.int64Value
    }

    public func delete(key: String) async throws {
        for path in [path(of: key), partialPath(of: key)] where unlink(path) != 0 && errno != ENOENT {
            throw CocoaError(.fileWriteNoPermission)
        }
    }

    /// Keys are Parley's own identifiers (letters, digits, `-`, `_`), used as they are; any other
    /// byte is written as `%XX`, so no key can name a path outside the folder (`..`, `/`).
    static func fileName(_ key: String) -> String {
        guard key.isEmpty || !key.utf8.allSatisfy({ isSafe($0) }) else { return key }
        let hex = Array("0123456789ABCDEF".utf8)
        var name: [UInt8] = key.isEmpty ? Array("%".utf8) : []
        for byte in key.utf8 {
            if isSafe(byte) { name.append(byte) } else { name += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]] }
        }
        return String(decoding: name, as: UTF8.self)
    }

    static func isSafe(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }
}
