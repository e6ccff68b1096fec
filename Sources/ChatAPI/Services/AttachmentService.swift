import Logging
import Metrics
import ObjectStorage

/// Files in conversations (docs/protocol.md "Attachments"): announcing an upload, receiving
/// one on local storage, checking uploads before a message refers to them, serving downloads
/// to members, and removing the bytes nobody may reach any more.
///
/// Every limit is checked before anything is stored: the per-user upload budget, the size
/// (`ATTACHMENT_MAX_BYTES`), the per-user quota (`ATTACHMENT_QUOTA_BYTES`, counting announced
/// uploads too) and the number of uploads no message refers to yet.
public struct AttachmentService: Sendable {
    public let storage: any AttachmentStorage
    let attachments: AttachmentStore
    let access: ConversationService
    let database: Database
    let clock: WallClock
    let rates: UserRateLimits
    let limits: ChatLimits
    let logger: Logger

    /// How long an upload URL is valid, and a presigned download URL.
    public static let uploadWindowSeconds: Int64 = 15 * 60
    public static let downloadWindowSeconds: Int64 = 5 * 60
    /// Uploads no message refers to are removed this long after they were announced.
    public static let pendingLifetimeMilliseconds: Int64 = 24 * 3600 * 1000

    public struct Announcement: Sendable {
        public var name: String
        public var size: Int64
        public var contentType: String
        public var width: Int?
        public var height: Int?
        public init(name: String, size: Int64, contentType: String, width: Int? = nil, height: Int? = nil) {
            self.name = name
            self.size = size
            self.contentType = contentType
            self.width = width
            self.height = height
        }
    }

    /// Records an upload the caller is about to make to a conversation they are in, and says
    /// where to send the bytes.
    public func announce(_ conversationId: String, _ announced: Announcement, origin: String, _ caller: AuthContext)
        async throws -> (attachment: AttachmentDTO, upload: UploadTarget)
    {
        try rates.spend(.upload, userId: caller.userId)
        _ = try await access.requireMember(conversationId, caller)
        let name = try AttachmentRules.name(announced.name)
        let contentType = try AttachmentRules.contentType(announced.contentType)
        guard announced.size >= 0 else { throw APIError.invalidField("size", "size must be 0 or more bytes.") }
        guard announced.size <= limits.attachmentMaxBytes else {
            throw APIError(.contentTooLarge, code: "payload_too_large",
                           message: "Files may be at most \(AttachmentRules.readable(limits.attachmentMaxBytes)) on this server (ATTACHMENT_MAX_BYTES).")
        }
        let now = clock.now()
        let attachment = StoredAttachment(
            id: Identifier.make("att"), conversationId: conversationId, uploaderId: caller.userId, messageSeq: nil,
            name: name, contentType: contentType, size: announced.size,
            width: try AttachmentRules.dimension(announced.width, field: "width"),
            height: try AttachmentRules.dimension(announced.height, field: "height"),
            createdAt: now, uploadedAt: nil, discardedAt: nil)
        let limits = self.limits, isPostgres = database.isPostgres
        try await database.transaction { sql in
            if isPostgres {
                // One announcement of a user at a time, so two cannot both fit the same room in the quota.
                try await sql.raw("SELECT id FROM users WHERE id = \(bind: caller.userId) FOR UPDATE").run()
            }
            let usage = try await AttachmentStore.usage(of: caller.userId, on: sql)
            if let quota = limits.attachmentQuotaBytes, usage.bytes + attachment.size > quota {
                throw APIError.limitReached(
                    "ATTACHMENT_QUOTA_BYTES", "Your files would exceed your storage quota of \(AttachmentRules.readable(quota))")
            }
            if let pending = limits.attachmentMaxPending, usage.pending >= pending {
                throw APIError.limitReached(
                    "ATTACHMENT_MAX_PENDING", "You have \(usage.pending) uploads no message refers to yet; send or wait for them")
            }
            try await AttachmentStore.insert(attachment, on: sql)
        }
        let upload = storage.uploadTarget(
            key: attachment.id, size: attachment.size, contentType: contentType,
            expiresAt: now.milliseconds / 1000 + Self.uploadWindowSeconds, origin: origin)
        return (attachment.dto, upload)
    }

    /// The bytes of a download a member may have: of a message of a conversation they are in,
    /// or their own complete upload not yet sent. Anyone else gets 404, as for a conversation
    /// they are not in.
    public func download(_ id: String, _ caller: AuthContext) async throws -> (attachment: StoredAttachment, source: DownloadSource) {
        guard Self.isIdentifier(id), let attachment = try await attachments.find(id), attachment.discardedAt == nil,
              attachment.messageSeq != nil || attachment.uploaderId == caller.userId
        else { throw APIError.notFound("No such attachment.") }
        do {
            _ = try await access.requireMember(attachment.conversationId, caller)
        } catch let error as APIError where error.status == .notFound {
            throw APIError.notFound("No such attachment.")
        }
        // The uploader's own file before it is sent: only once its bytes are all there.
        if attachment.uploadedAt == nil, case .mismatch = try await confirm(attachment) {
            throw APIError.notFound("No such attachment.")
        }
        let source = storage.download(
            key: id, disposition: AttachmentRules.disposition(name: attachment.name, contentType: attachment.contentType),
            contentType: AttachmentRules.servedType(attachment.contentType),
            expiresAt: clock.now().milliseconds / 1000 + Self.downloadWindowSeconds)
        return (attachment, source)
    }

    /// The announced upload a local-storage upload URL names, when the URL is this server's and
    /// still valid and the bytes have not been received yet.
    public func pendingUpload(_ id: String, expires: String?, signature: String?) async throws
        -> (attachment: StoredAttachment, storage: LocalFolderStorage)
    {
        guard let local = storage as? LocalFolderStorage else { throw APIError.notFound() }
        guard Self.isIdentifier(id), let expires = expires.flatMap({ Int64($0) }), let signature,
              let attachment = try await attachments.find(id), attachment.discardedAt == nil,
              local.acceptsUpload(key: id, size: attachment.size, contentType: attachment.contentType, expiresAt: expires,
                                  signature: signature, now: clock.now().milliseconds / 1000)
        else { throw APIError.forbidden("This upload URL is not valid (wrong, expired or for another file).") }
        guard attachment.uploadedAt == nil else {
            throw APIError.conflict("already_uploaded", "This file was uploaded already.")
        }
        return (attachment, local)
    }

    /// Records a local upload whose bytes were all written and counted.
    public func uploaded(_ attachment: StoredAttachment, storage local: LocalFolderStorage) async throws {
        try local.complete(key: attachment.id)
        guard try await attachments.markUploaded(attachment.id, at: clock.now()) else {
            throw APIError.conflict("already_uploaded", "This file was uploaded already.")
        }
        Self.uploadsCounter.increment()
        Self.uploadedBytesCounter.increment(by: attachment.size)
    }

    /// Checks the caller's uploads named in a message about to be sent, where the store holds
    /// the bytes without Parley seeing them (S3): present and of the announced size. An upload
    /// whose size differs is discarded and refused, so it never reaches a message.
    func verify(_ ids: [String], _ caller: AuthContext) async throws {
        // Others' ids, and uploads already confirmed or sent, are left to `link` to accept or refuse.
        for attachment in try await attachments.unconfirmed(ids, uploaderId: caller.userId) {
            switch try await confirm(attachment) {
            case .complete: break
            case .mismatch(nil):
                throw APIError.invalidField("attachmentIds", "The upload of \(attachment.name) is not complete.")
            case .mismatch(let stored?):
                throw APIError.invalidField(
                    "attachmentIds", "\(attachment.name) has \(stored) bytes, not the \(attachment.size) announced; upload it again.")
            }
        }
    }

    enum Confirmation { case complete, mismatch(stored: Int64?) }

    /// Whether the store holds exactly the announced bytes of an upload not yet confirmed;
    /// records it as uploaded if so. An object of another size is discarded and deleted.
    private func confirm(_ attachment: StoredAttachment) async throws -> Confirmation {
        let size: Int64?
        do {
            size = try await storage.storedSize(key: attachment.id)
        } catch {
            logger.warning("the attachment storage did not answer", metadata: ["attachment": "\(attachment.id)", "error": "\(error)"])
            throw Self.storageUnavailable
        }
        guard let stored = size else { return .mismatch(stored: nil) }
        guard stored == attachment.size else {
            try await attachments.discard(attachment.id, at: clock.now())
            try? await storage.delete(key: attachment.id)
            return .mismatch(stored: stored)
        }
        if try await attachments.markUploaded(attachment.id, at: clock.now()) {
            Self.uploadsCounter.increment()
            Self.uploadedBytesCounter.increment(by: attachment.size)
        }
        return .complete
    }

    /// 503: the store did not answer (or refused Parley's own request); nothing was changed.
    static let storageUnavailable = APIError(
        .serviceUnavailable, code: "unavailable",
        message: "The file storage cannot be reached; nothing was sent. Try again shortly.", retryAfter: 5)

    /// The ids a message may carry: at most ten, each once.
    static func validateIds(_ ids: [String]) throws {
        guard ids.count <= AttachmentRules.maxPerMessage else {
            throw APIError.invalidField("attachmentIds", "A message carries at most \(AttachmentRules.maxPerMessage) files.")
        }
        guard Set(ids).count == ids.count, ids.allSatisfy(isIdentifier) else {
            throw APIError.invalidField("attachmentIds", "attachmentIds must be distinct attachment ids.")
        }
    }

    static func isIdentifier(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count) && id.utf8.allSatisfy { byte in
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
    }

    /// Removes the bytes and rows of attachments nobody may reach: discarded ones (their message
    /// was deleted) and uploads no message referred to within a day. Returns how many went.
    /// Run every minute by the server (`AttachmentSweeper`), with the service's clock.
    @discardableResult
    public func sweep(batch: Int = 500) async throws -> Int {
        let cutoff = Timestamp(milliseconds: clock.now().milliseconds - Self.pendingLifetimeMilliseconds)
        var removed = 0
        for id in try await attachments.removable(announcedBefore: cutoff, limit: batch) {
            do {
                try await storage.delete(key: id)
                try await attachments.remove(id)
                removed += 1
            } catch {
                // Kept for the next sweep: a row without its bytes is harmless, bytes without a row are lost track of.
                logger.warning("could not remove an attachment's bytes", metadata: ["attachment": "\(id)", "error": "\(error)"])
            }
        }
        Self.storedBytesGauge.record(try await attachments.storedBytes())
        if removed > 0 { Self.removedCounter.increment(by: removed) }
        return removed
    }

    /// Removes at once what a deleted message's attachments stored (the sweep retries failures).
    func removeDiscarded(_ ids: [String]) async {
        for id in ids {
            do {
                try await storage.delete(key: id)
                try await attachments.remove(id)
                Self.removedCounter.increment()
            } catch {
                logger.warning("could not remove an attachment's bytes", metadata: ["attachment": "\(id)", "error": "\(error)"])
            }
        }
    }

    /// `parley_attachment_uploads_total` and `parley_attachment_uploaded_bytes_total`: uploads
    /// completed (received, or checked in the store). `parley_attachment_stored_bytes`: bytes of
    /// the uploads kept, across instances (read from the database by the sweep).
    /// `parley_attachments_removed_total`: removed by message deletion or the sweep.
    static let uploadsCounter = Counter(label: "parley_attachment_uploads_total")
    static let uploadedBytesCounter = Counter(label: "parley_attachment_uploaded_bytes_total")
    static let storedBytesGauge = Gauge(label: "parley_attachment_stored_bytes")
    static let removedCounter = Counter(label: "parley_attachments_removed_total")
}
