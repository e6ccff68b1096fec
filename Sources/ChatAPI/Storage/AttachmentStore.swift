import SQLKit

/// An attachment's row: what was announced, whose it is, and where it stands (uploaded,
/// referred to by a message, discarded).
public struct StoredAttachment: Sendable, Equatable {
    public var id: String
    public var conversationId: String
    public var uploaderId: String
    public var messageSeq: Int64?
    public var name: String
    public var contentType: String
    public var size: Int64
    public var width: Int?
    public var height: Int?
    public var createdAt: Timestamp
    public var uploadedAt: Timestamp?
    public var discardedAt: Timestamp?

    public var dto: AttachmentDTO {
        AttachmentDTO(id: id, name: name, size: size, contentType: contentType, width: width, height: height)
    }
}

/// The `attachments` table. The bytes are the storage's (`AttachmentStorage`), under the id.
public struct AttachmentStore: Sendable {
    let database: Database

    static let columns = """
        id, conversation_id, uploader_id, message_seq, name, content_type, size, width, height, created_at, uploaded_at, discarded_at
        """

    static func attachment(row: any SQLRow) throws -> StoredAttachment {
        StoredAttachment(
            id: try row.decode(column: "id", as: String.self),
            conversationId: try row.decode(column: "conversation_id", as: String.self),
            uploaderId: try row.decode(column: "uploader_id", as: String.self),
            messageSeq: try row.decode(column: "message_seq", as: Int64?.self),
            name: try row.decode(column: "name", as: String.self),
            contentType: try row.decode(column: "content_type", as: String.self),
            size: try row.decode(column: "size", as: Int64.self),
            width: try row.decode(column: "width", as: Int?.self),
            height: try row.decode(column: "height", as: Int?.self),
            createdAt: Timestamp(milliseconds: try row.decode(column: "created_at", as: Int64.self)),
            uploadedAt: try row.decode(column: "uploaded_at", as: Int64?.self).map(Timestamp.init(milliseconds:)),
            discardedAt: try row.decode(column: "discarded_at", as: Int64?.self).map(Timestamp.init(milliseconds:)))
    }

    static func insert(_ a: StoredAttachment, on sql: any SQLDatabase) async throws {
        try await sql.raw("""
            INSERT INTO attachments (id, conversation_id, uploader_id, name, content_type, size, width, height, created_at)
            VALUES (\(bind: a.id), \(bind: a.conversationId), \(bind: a.uploaderId), \(bind: a.name), \(bind: a.contentType),
                    \(bind: a.size), \(bind: a.width), \(bind: a.height), \(bind: a.createdAt.milliseconds))
            """).run()
    }

    /// What `userId` holds: bytes of every attachment not discarded (uploaded or still
    /// announced), and how many no message refers to yet.
    static func usage(of userId: String, on sql: any SQLDatabase) async throws -> (bytes: Int64, pending: Int) {
        guard let row = try await sql.raw("""
            SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) AS bytes,
                   CAST(COALESCE(SUM(CASE WHEN message_seq IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS pending
            FROM attachments WHERE uploader_id = \(bind: userId) AND discarded_at IS NULL
            """).first()
        else { return (0, 0) }
        return (try row.decode(column: "bytes", as: Int64.self), try row.decode(column: "pending", as: Int.self))
    }

    public func find(_ id: String) async throws -> StoredAttachment? {
        try await database.sql.raw("SELECT \(unsafeRaw: Self.columns) FROM attachments WHERE id = \(bind: id)")
            .first().map(Self.attachment(row:))
    }

    /// Which of `ids` are uploads of `uploaderId` still waiting for their bytes to be confirmed
    /// (announced, not sent, not discarded): one query, whatever the storage.
    func unconfirmed(_ ids: [String], uploaderId: String) async throws -> [StoredAttachment] {
        guard !ids.isEmpty else { return [] }
        return try await database.sql.raw("""
            SELECT \(unsafeRaw: Self.columns) FROM attachments
            WHERE id IN (\(binds: ids)) AND uploader_id = \(bind: uploaderId)
              AND message_seq IS NULL AND uploaded_at IS NULL AND discarded_at IS NULL
            """).all().map(Self.attachment(row:))
    }

    /// Records that the bytes are stored and checked; false when the row was already marked
    /// (or is gone or discarded).
    func markUploaded(_ id: String, at now: Timestamp) async throws -> Bool {
        let rows = try await database.sql.raw("""
            UPDATE attachments SET uploaded_at = \(bind: now.milliseconds)
            WHERE id = \(bind: id) AND uploaded_at IS NULL AND discarded_at IS NULL RETURNING id
            """).all()
        return !rows.isEmpty
    }

    /// Gives `ids` to the message `seq`, each at its place in `ids`: only uploads of `uploaderId`
    /// to `conversationId` that are complete and belong to no message yet. Returns those it gave,
    /// in no particular order.
    static func link(_ ids: [String], uploaderId: String, conversationId: String, seq: Int64, on sql: any SQLDatabase)
        async throws -> [StoredAttachment]
    {
        var position: SQLQueryString = "CASE id"
        for (index, id) in ids.enumerated() { position += " WHEN \(bind: id) THEN \(literal: index)" }
        position += " END"
        return try await sql.raw("""
            UPDATE attachments SET message_seq = \(bind: seq), position = \(position)
            WHERE id IN (\(binds: ids)) AND uploader_id = \(bind: uploaderId) AND conversation_id = \(bind: conversationId)
              AND message_seq IS NULL AND uploaded_at IS NOT NULL AND discarded_at IS NULL
            RETURNING \(unsafeRaw: Self.columns)
            """).all().map(Self.attachment(row:))
    }

    /// The attachments of these messages, by message, in the order they were given.
    static func forMessages(_ seqs: [Int64], on sql: any SQLDatabase) async throws -> [Int64: [AttachmentDTO]] {
        guard !seqs.isEmpty else { return [:] }
        let rows = try await sql.raw("""
            SELECT \(unsafeRaw: Self.columns), position FROM attachments
            WHERE message_seq IN (\(binds: seqs)) AND discarded_at IS NULL ORDER BY message_seq, position, id
            """).all()
        var result: [Int64: [AttachmentDTO]] = [:]
        for row in rows {
            let attachment = try Self.attachment(row: row)
            if let seq = attachment.messageSeq { result[seq, default: []].append(attachment.dto) }
        }
        return result
    }

    /// Marks a deleted message's files for removal; returns their ids.
    static func discard(messageSeq seq: Int64, at now: Timestamp, on sql: any SQLDatabase) async throws -> [String] {
        try await sql.raw("""
            UPDATE attachments SET discarded_at = \(bind: now.milliseconds)
            WHERE message_seq = \(bind: seq) AND discarded_at IS NULL RETURNING id
            """).all().map { try $0.decode(column: "id", as: String.self) }
    }

    /// Marks one upload for removal (its bytes proved wrong).
    func discard(_ id: String, at now: Timestamp) async throws {
        try await database.sql.raw("""
            UPDATE attachments SET discarded_at = \(bind: now.milliseconds) WHERE id = \(bind: id) AND discarded_at IS NULL
            """).run()
    }

    /// Up to `limit` attachments whose bytes should go: discarded, or announced before `cutoff`
    /// and referred to by no message.
    func removable(announcedBefore cutoff: Timestamp, limit: Int) async throws -> [String] {
        try await database.sql.raw("""
            SELECT id FROM attachments
            WHERE discarded_at IS NOT NULL OR (message_seq IS NULL AND created_at < \(bind: cutoff.milliseconds))
            ORDER BY created_at LIMIT \(bind: limit)
            """).all().map { try $0.decode(column: "id", as: String.self) }
    }

    func remove(_ id: String) async throws {
        try await database.sql.raw("DELETE FROM attachments WHERE id = \(bind: id)").run()
    }

    /// Bytes of the uploads that are stored and kept.
    func storedBytes() async throws -> Int64 {
        try await database.sql.raw("""
            SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) AS bytes FROM attachments WHERE uploaded_at IS NOT NULL AND discarded_at IS NULL
            """).first()?.decode(column: "bytes", as: Int64.self) ?? 0
    }
}
