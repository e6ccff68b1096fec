import ChatAPI
import ChatTestSupport
import Foundation
import SQLKit
import Testing

/// Migration 4 on a database made before it: existing accounts become members, the earliest
/// one the administrator (so an upgraded server has someone to run /admin), existing messages
/// kind `user`.
@Suite("Upgrading to roles and system messages")
struct MigrationUpgradeTests {
    @Test("the earliest account of an upgraded server becomes its administrator; the rest stay members",
          arguments: TestBackend.allCases)
    func earliestBecomesAdmin(_ backend: TestBackend) async throws {
        let database = try await backend.makeDatabase(migratedThrough: 3)
        do {
            for (id, created) in [("u_second", 2_000), ("u_first", 1_000), ("u_third", 3_000)] {
                try await database.sql.raw("""
                    INSERT INTO users (id, email, password_hash, display_name, display_name_lower, created_at)
                    VALUES (\(bind: id), \(bind: "\(id)@example.com"), 'x', \(bind: id), \(bind: id), \(bind: created))
                    """).run()
            }
            try await database.sql.raw("""
                INSERT INTO conversations (id, kind, title, created_at, last_activity_at) VALUES ('c_1', 'group', 'T', 1, 1)
                """).run()
            try await database.sql.raw("""
                INSERT INTO messages (conversation_id, sender_id, content, created_at) VALUES ('c_1', 'u_first', 'old', 1)
                """).run()
            #expect(try await Migrations.run(on: database, logger: TestBackend.logger) == [4, 5])
            let roles = try await database.sql.raw("SELECT id, role FROM users ORDER BY id").all().map {
                (try $0.decode(column: "id", as: String.self), try $0.decode(column: "role", as: String.self))
            }
            #expect(roles.map(\.0) == ["u_first", "u_second", "u_third"])
            #expect(roles.map(\.1) == ["admin", "member", "member"])
            let kind = try await database.sql.raw("SELECT kind FROM messages").first()?.decode(column: "kind", as: String.self)
            #expect(kind == "user")
            // Running again changes nothing.
            #expect(try await Migrations.run(on: database, logger: TestBackend.logger) == [])
        } catch {
            try? await database.shutdown()
            throw error
        }
        try await database.shutdown()
    }
}
