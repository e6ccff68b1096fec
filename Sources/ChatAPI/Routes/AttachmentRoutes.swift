import Foundation
import Hummingbird
import NIOCore
import ObjectStorage
import Synchronization

/// Files: `POST /conversations/{id}/attachments` announces an upload, `GET /attachments/{id}`
/// serves one to members, and `PUT /attachments/{id}/content` receives the bytes when they are
/// kept on this server's disk (its URL, handed out by the announcement, is its permission).
public struct AttachmentRoutes: Sendable {
    let attachments: AttachmentService
    let publicURL: String?
    let fileIO = FileIO()
    let inFlight = UploadsInFlight()

    struct AnnounceBody: Decodable {
        var name: String
        var size: Int64
        var contentType: String
        var width: Int?
        var height: Int?
    }
    struct Announced: Encodable {
        struct Upload: Encodable { var method: String; var url: String; var headers: [String: String] }
        var attachment: AttachmentDTO
        var upload: Upload
    }

    public func addAnnouncement(to conversations: RouterGroup<ParleyRequestContext>) {
        conversations.post(":id/attachments") { request, context in
            let caller = try context.requireCaller()
            let id = try context.parameters.path("id")
            let body = try await JSONBody.decode(AnnounceBody.self, from: request)
            let (attachment, upload) = try await attachments.announce(
                id, .init(name: body.name, size: body.size, contentType: body.contentType, width: body.width, height: body.height),
                origin: PublicOrigin.of(request, configured: publicURL), caller)
            return try jsonResponse(
                Announced(attachment: attachment, upload: .init(method: upload.method, url: upload.url, headers: upload.headers)),
                status: .created)
        }
    }

    struct Location: Encodable { var url: String }

    public func addDownload(to group: RouterGroup<ParleyRequestContext>) {
        group.get(":id") { request, context in
            let (attachment, source) = try await attachments.download(try context.parameters.path("id"), context.requireCaller())
            // `Accept: application/json` asks where the bytes are instead of being sent there:
            // a client then fetches a store's URL itself, without its bearer token (a browser
            // that kept the Authorization header across a redirect would hand it to the store).
            let wantsLocation = request.headers[.accept]?.contains("application/json") == true
            switch source {
            case .redirect(let url):
                if wantsLocation {
                    var response = try jsonResponse(Location(url: url))
                    response.headers[.cacheControl] = "no-store"
                    response.headers[.vary] = "Accept"
                    return response
                }
                return Response(status: .found, headers: [.location: url, .cacheControl: "no-store", .vary: "Accept"])
            case .file where wantsLocation:
                var response = try jsonResponse(Location(url: "/attachments/\(attachment.id)"))
                response.headers[.cacheControl] = "no-store"
                response.headers[.vary] = "Accept"
                return response
            case .file(let path):
                let body = try await fileIO.loadFile(path: path, context: context)
                return Response(status: .ok, headers: [
                    .contentType: AttachmentRules.servedType(attachment.contentType),
                    .contentDisposition: AttachmentRules.disposition(name: attachment.name, contentType: attachment.contentType),
                    .xContentTypeOptions: "nosniff",
                    .contentSecurityPolicy: AttachmentRules.downloadPolicy,
                    // An id's bytes never change; only the member who fetched them keeps a copy, and
                    // never in place of the JSON answer to the same address.
                    .cacheControl: "private, max-age=3600",
                    .vary: "Accept",
                ], body: body)
            }
        }
    }

    public func addUpload(to group: RouterGroup<ParleyRequestContext>) {
        group.put(":id/content") { request, context in
            let query = request.uri.queryParameters
            let (attachment, local) = try await attachments.pendingUpload(
                try context.parameters.path("id"), expires: query.get("expires"), signature: query.get("signature"))
            if let declared = request.headers[.contentLength].flatMap({ Int64($0) }), declared != attachment.size {
                throw Self.sizeMismatch(received: declared, announced: attachment.size)
            }
            guard inFlight.claim(attachment.id) else {
                throw APIError.conflict("upload_in_progress", "This file is being uploaded already; wait for that upload to end.")
            }
            defer { inFlight.release(attachment.id) }
            let partial = local.partialPath(of: attachment.id)
            let overflow = BoundedBody<RequestBody>.Overflow()
            do {
                // Streamed to disk as it arrives; more bytes than announced stop the upload at once.
                try await fileIO.writeFile(
                    contents: BoundedBody(base: request.body, limit: attachment.size, overflow: overflow), path: partial, context: context)
                let written = (try FileManager.default.attributesOfItem(atPath: partial)[.size] as? NSNumber)?.int64Value ?? -1
                guard written == attachment.size else { throw Self.sizeMismatch(received: written, announced: attachment.size) }
                try await attachments.uploaded(attachment, storage: local)
            } catch {
                unlink(partial)
                // The file writer wraps the body's error in its own, so the body says itself.
                if overflow.happened { throw Self.sizeMismatch(received: nil, announced: attachment.size) }
                throw error
            }
            return Response.noContent
        }
    }

    /// `received` nil: more than announced (the upload was stopped there).
    static func sizeMismatch(received: Int64?, announced: Int64) -> APIError {
        let had = received.map { "\($0) bytes" } ?? "more than \(announced) bytes"
        return APIError(.badRequest, code: "size_mismatch", message: "The body has \(had); \(announced) were announced.")
    }
}

/// A request body that ends in an error as soon as it holds more than `limit` bytes, so an
/// upload larger than announced is never written whole. `overflow` records that it did.
struct BoundedBody<Base: AsyncSequence>: AsyncSequence where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer
    let base: Base
    let limit: Int64
    let overflow: Overflow

    final class Overflow: Sendable {
        private let flag = Atomic<Bool>(false)
        var happened: Bool { flag.load(ordering: .relaxed) }
        func record() { flag.store(true, ordering: .relaxed) }
    }

    struct TooLong: Error {}

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let limit: Int64
        let overflow: Overflow
        var received: Int64 = 0

        mutating func next() async throws -> ByteBuffer? {
            guard let buffer = try await base.next() else { return nil }
            received += Int64(buffer.readableBytes)
            if received > limit {
                overflow.record()
                throw TooLong()
            }
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), limit: limit, overflow: overflow) }
}
