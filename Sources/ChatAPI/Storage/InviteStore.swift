import SQLKit

/// An invitation as stored: its code only as a hash.
public struct InviteRecord: Sendable, Equatable {
    public var id: String
    public var maxUses: Int
    public var uses: Int
    public var createdAt: Timestamp
    public var expiresAt: Timestamp
    public var createdBy: String?

    init(row: any SQLRow) throws {
        id = try row.decode(column: "id", as: String.self)
        maxUses = try row.decode(column: "max_uses", as: Int.self)
        uses = try row.decode(column: "uses", as: Int.self)
        createdAt = Timestamp(milliseconds: try row.decode(column: "created_at", as: Int64.self))
        expiresAt = Timestamp(milliseconds: try row.decode(column: "expires_at", as: Int64.self))
        createdBy = try row.decode(column: "created_by", as: String?.self)
    }

    init(id: String, maxUses: Int, createdAt: Timestamp, expiresAt: Timestamp, createdBy: String?) {
        self.id = id
        self.maxUses = maxUses
        self.uses = 0
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.createdBy = createdBy
    }

    /// Whether it would still let someone in at `now`.
    func isOpen(at now: Timestamp) -> Bool { uses < maxUses && expiresAt > now }
}

/// Invitations: stored by the hash of their code; a use is a conditional increment, so two
/// registrations racing for the last use cannot both have it.
public struct InviteStore: Sendable {
    let database: Database

    static let columns = "id, max_uses, uses, created_at, expires_at, created_by"

    func insert(_ invite: InviteRecord, codeHash: String, on sql: any SQLDatabase) async throws {
        try await sql.raw("""
            INSERT INTO invites (id, code_hash, created_by, max_uses, uses, created_at, expires_at)
            VALUES (\(bind: invite.id), \(bind: codeHash), \(bind: invite.createdBy), \(bind: invite.maxUses), 0,
                    \(bind: invite.createdAt.milliseconds), \(bind: invite.expiresAt.milliseconds))
            """).run()
    }

    /// Invitations that could still be used at `now` (INVITE cap).
    func openCount(at now: Timestamp, on sql: any SQLDatabase) async throws -> Int {
        try await sql.raw("""
            SELECT COUNT(*) AS n FROM invites WHERE uses < max_uses AND expires_at > \(bind: now.milliseconds)
            """).first()?.decode(column: "n", as: Int.self) ?? 0
    }

    /// Every invitation, newest first (used up and expired ones too, until deleted), at most `limit`.
    func list(limit: Int) async throws -> [InviteRecord] {
        try await database.sql.raw("""
            SELECT \(unsafeRaw: Self.columns) FROM invites ORDER BY created_at DESC, id LIMIT \(bind: limit)
            """).all().map(InviteRecord.init(row:))
    }

    /// Deletes the invitation with this id or this code; false when there is none.
    func delete(idOrCodeHash id: String, codeHash: String) async throws -> Bool {
        try await !database.sql.raw("""
            DELETE FROM invites WHERE id = \(bind: id) OR code_hash = \(bind: codeHash) RETURNING id
            """).all().isEmpty
    }

    /// Spends one use of the invitation whose code hashes to `codeHash`, if it is open at `now`;
    /// false when it is unknown, used up or expired. Inside the registration's transaction, so a
    /// registration that fails afterwards gives the use back.
    func redeem(codeHash: String, now: Timestamp, on sql: any SQLDatabase) async throws -> Bool {
        try await !sql.raw("""
            UPDATE invites SET uses = uses + 1
            WHERE code_hash = \(bind: codeHash) AND uses < max_uses AND expires_at > \(bind: now.milliseconds)
            RETURNING id
            """).all().isEmpty
    }
}
