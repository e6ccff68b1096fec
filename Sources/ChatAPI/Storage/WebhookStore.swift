import SQLKit

/// An incoming webhook as stored: its URL secret only as a hash.
struct WebhookRecord: Sendable, Equatable {
    var id: String
    var conversationId: String
    var name: String
    var secretHash: String
    var createdBy: String
    var createdAt: Timestamp

    init(row: any SQLRow) throws {
        id = try row.decode(column: "id", as: String.self)
        conversationId = try row.decode(column: "conversation_id", as: String.self)
        name = try row.decode(column: "name", as: String.self)
        secretHash = try row.decode(column: "secret_hash", as: String.self)
        createdBy = try row.decode(column: "created_by", as: String.self)
        createdAt = Timestamp(milliseconds: try row.decode(column: "created_at", as: Int64.self))
    }

    init(id: String, conversationId: String, name: String, secretHash: String, createdBy: String, createdAt: Timestamp) {
        self.id = id
        self.conversationId = conversationId
        self.name = name
        self.secretHash = secretHash
        self.createdBy = createdBy
        self.createdAt = createdAt
    }
}

/// The incoming webhooks of conversations.
struct WebhookStore: Sendable {
    let database: Database

    static let columns = "id, conversation_id, name, secret_hash, created_by, created_at"

    func insert(_ webhook: WebhookRecord, on sql: any SQLDatabase) async throws {
        try await sql.raw("""
            INSERT INTO webhooks (id, conversation_id, name, secret_hash, created_by, created_at)
            VALUES (\(bind: webhook.id), \(bind: webhook.conversationId), \(bind: webhook.name), \(bind: webhook.secretHash),
                    \(bind: webhook.createdBy), \(bind: webhook.createdAt.milliseconds))
            """).run()
    }

    func count(conversationId: String, on sql: any SQLDatabase) async throws -> Int {
        try await sql.raw("SELECT COUNT(*) AS n FROM webhooks WHERE conversation_id = \(bind: conversationId)")
            .first()?.decode(column: "n", as: Int.self) ?? 0
    }

    func list(conversationId: String) async throws -> [WebhookRecord] {
        try await database.sql.raw("""
            SELECT \(unsafeRaw: Self.columns) FROM webhooks WHERE conversation_id = \(bind: conversationId) ORDER BY created_at, id
            """).all().map(WebhookRecord.init(row:))
    }

    func find(id: String) async throws -> WebhookRecord? {
        try await database.sql.raw("SELECT \(unsafeRaw: Self.columns) FROM webhooks WHERE id = \(bind: id)")
            .first().map(WebhookRecord.init(row:))
    }

    /// Deletes the conversation's webhook; false when it has none of that id.
    func delete(id: String, conversationId: String) async throws -> Bool {
        try await !database.sql.raw("""
            DELETE FROM webhooks WHERE id = \(bind: id) AND conversation_id = \(bind: conversationId) RETURNING id
            """).all().isEmpty
    }
}
