import Logging
import SQLKit

/// Versioned schema migrations. Each runs once, in order, inside a transaction, and is recorded
/// in `schema_migrations`; `parley serve` runs them at start and `parley migrate` runs them alone.
/// Several instances starting together on one PostgreSQL serialise on an advisory lock.
public enum Migrations {
    struct Migration: Sendable {
        let version: Int
        let name: String
        let statements: @Sendable (_ isPostgres: Bool) -> [String]
    }

    static let all: [Migration] = [
        Migration(version: 1, name: "accounts, conversations, messages") { pg in
            let serial = pg ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"
            return [
                """
                CREATE TABLE users (
                    id TEXT PRIMARY KEY,
                    email TEXT NOT NULL UNIQUE,
                    password_hash TEXT NOT NULL,
                    display_name TEXT NOT NULL,
                    display_name_lower TEXT NOT NULL,
                    avatar_url TEXT,
                    created_at BIGINT NOT NULL,
                    last_seen_at BIGINT
                )
                """,
                "CREATE INDEX users_display_name_lower ON users (display_name_lower)",
                """
                CREATE TABLE logins (
                    id TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    created_at BIGINT NOT NULL,
                    revoked_at BIGINT,
                    revoked_reason TEXT
                )
                """,
                """
                CREATE TABLE refresh_tokens (
                    token_hash TEXT PRIMARY KEY,
                    login_id TEXT NOT NULL REFERENCES logins(id) ON DELETE CASCADE,
                    created_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL,
                    used_at BIGINT
                )
                """,
                "CREATE INDEX refresh_tokens_login ON refresh_tokens (login_id)",
                """
                CREATE TABLE conversations (
                    id TEXT PRIMARY KEY,
                    kind TEXT NOT NULL,
                    title TEXT,
                    dm_key TEXT UNIQUE,
                    created_at BIGINT NOT NULL,
                    last_activity_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE members (
                    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    role TEXT NOT NULL,
                    joined_at BIGINT NOT NULL,
                    last_read_seq BIGINT NOT NULL DEFAULT 0,
                    PRIMARY KEY (conversation_id, user_id)
                )
                """,
                "CREATE INDEX members_user ON members (user_id)",
                """
                CREATE TABLE messages (
                    seq \(serial),
                    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
                    sender_id TEXT NOT NULL REFERENCES users(id),
                    content TEXT NOT NULL,
                    client_msg_id TEXT,
                    created_at BIGINT NOT NULL,
                    edited_at BIGINT,
                    deleted_at BIGINT,
                    UNIQUE (conversation_id, sender_id, client_msg_id)
                )
                """,
                "CREATE INDEX messages_conversation_seq ON messages (conversation_id, seq)",
            ]
        },
        // Version 2 created `bus_spill`, the PostgreSQL bus's table for large events. The bus now
        // creates it itself (`PostgresPubSub`, `IF NOT EXISTS`); databases that ran version 2
        // keep the table, and the number is not reused.
        Migration(version: 3, name: "refresh token successors, for the reuse grace") { _ in
            ["ALTER TABLE refresh_tokens ADD COLUMN replaced_by TEXT"]
        },
        // Accounts gain a role (existing ones are members) and a deactivation time; the earliest
        // active account of a server upgraded without an administrator becomes its administrator
        // (docs/self-hosting.md "Administrators"), so someone can run the new /admin routes.
        Migration(version: 4, name: "account roles, invitations, bots, webhooks, system messages") { _ in
            [
                "ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'member'",
                "ALTER TABLE users ADD COLUMN deactivated_at BIGINT",
                """
                UPDATE users SET role = 'admin' WHERE id = (
                    SELECT id FROM users WHERE NOT EXISTS (SELECT 1 FROM users WHERE role = 'admin')
                    ORDER BY created_at, id LIMIT 1)
                """,
                """
                CREATE TABLE invites (
                    id TEXT PRIMARY KEY,
                    code_hash TEXT NOT NULL UNIQUE,
                    created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
                    max_uses BIGINT NOT NULL,
                    uses BIGINT NOT NULL DEFAULT 0,
                    created_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE bot_tokens (
                    token_hash TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
                    login_id TEXT NOT NULL REFERENCES logins(id) ON DELETE CASCADE,
                    created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
                    created_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE webhooks (
                    id TEXT PRIMARY KEY,
                    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    secret_hash TEXT NOT NULL,
                    created_by TEXT NOT NULL REFERENCES users(id),
                    created_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX webhooks_conversation ON webhooks (conversation_id)",
                "CREATE INDEX logins_user ON logins (user_id)",
                // A message's kind (`user`, `system`), what a system message records (JSON), and
                // for a webhook's message the webhook and its name then. `sender_id` stays the
                // accountable user: the webhook's creator, or the user a system message is
                // recorded under.
                "ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'user'",
                "ALTER TABLE messages ADD COLUMN system_event TEXT",
                "ALTER TABLE messages ADD COLUMN webhook_id TEXT",
                "ALTER TABLE messages ADD COLUMN webhook_name TEXT",
            ]
        },
        // Attachments: one row per announced upload. `message_seq` is set when a message refers
        // to it; `uploaded_at` once its bytes are stored and checked; `discarded_at` when its
        // message was deleted or its upload proved wrong, until the sweeper has removed the bytes.
        // Bytes live in the storage (`STORAGE_URL`) under the attachment's id.
        Migration(version: 5, name: "attachments") { _ in
            [
                """
                CREATE TABLE attachments (
                    id TEXT PRIMARY KEY,
                    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
                    uploader_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    message_seq BIGINT,
                    name TEXT NOT NULL,
                    content_type TEXT NOT NULL,
                    size BIGINT NOT NULL,
                    width BIGINT,
                    height BIGINT,
                    created_at BIGINT NOT NULL,
                    uploaded_at BIGINT,
                    discarded_at BIGINT,
                    position BIGINT NOT NULL DEFAULT 0
                )
                """,
                "CREATE INDEX attachments_message ON attachments (message_seq)",
                "CREATE INDEX attachments_uploader ON attachments (uploader_id)",
                "CREATE INDEX attachments_created ON attachments (created_at)",
            ]
        },
    ]

    /// Brings the schema up to date (or up to `version`, for the tests of an upgrade) and
    /// returns the versions it applied.
    @discardableResult
    public static func run(on database: Database, logger: Logger, through version: Int = .max) async throws -> [Int] {
        let isPostgres = database.isPostgres
        return try await database.transaction { sql in
            if isPostgres {
                // One migrator at a time across instances; released at COMMIT.
                try await sql.raw("SELECT pg_advisory_xact_lock(7238291)").run()
            }
            try await sql.raw("""
                CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)
                """).run()
            let done = Set(try await sql.raw("SELECT version FROM schema_migrations").all().map {
                try $0.decode(column: "version", as: Int.self)
            })
            var applied: [Int] = []
            for migration in all where !done.contains(migration.version) && migration.version <= version {
                for statement in migration.statements(isPostgres) {
                    try await sql.raw(SQLQueryString(statement)).run()
                }
                let now = WallClock.system.now().milliseconds
                try await sql.raw("""
                    INSERT INTO schema_migrations (version, name, applied_at)
                    VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: now))
                    """).run()
                logger.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
                applied.append(migration.version)
            }
            return applied
        }
    }
}
