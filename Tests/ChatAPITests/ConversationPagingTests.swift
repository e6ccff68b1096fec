import ChatAPI
import ChatTestSupport
import Foundation
import Hummingbird
import SQLKit
import Testing

/// `GET /conversations?limit=&cursor=`: keyset pages, most recent activity first.
@Suite struct ConversationPagingTests {
    /// Follows nextCursor to the end; returns the ids in order and the number of pages.
    static func everything(_ api: TestAPI, as person: Person, limit: Int) async throws -> (ids: [String], pages: Int) {
        var ids: [String] = [], cursor: String?, pages = 0
        repeat {
            let path = "/conversations?limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? "")
            let reply = try await api.request(.get, path, as: person)
            #expect(reply.status == .ok)
            let page = reply["conversations"] as? [[String: Any]] ?? []
            #expect(page.count <= limit)
            ids += page.compactMap { $0["id"] as? String }
            cursor = reply["nextCursor"] as? String
            #expect(reply.json.keys.contains("nextCursor"), "nextCursor is always present, null at the end")
            pages += 1
        } while cursor != nil && pages < 100_000
        return (ids, pages)
    }

    @Test("pages follow activity order and give every conversation once", arguments: TestBackend.allCases)
    func paging(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob")
            var created: [String] = []
            for index in 0..<5 {
                created.append(try await api.createGroup(ada, title: "g\(index)", members: [bob]))
                api.clock.advance(seconds: 1)
            }
            _ = try await api.send("bump", in: created[1], as: bob)
            let expected = [created[1], created[4], created[3], created[2], created[0]]
            let whole = try await api.request(.get, "/conversations", as: ada)
            #expect((whole["conversations"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == expected)
            #expect(whole["nextCursor"] is NSNull)
            let paged = try await Self.everything(api, as: ada, limit: 2)
            #expect(paged.ids == expected)
            #expect(paged.pages == 3)
            let first = try await api.request(.get, "/conversations?limit=1", as: ada)
            let conversation = try #require((first["conversations"] as? [[String: Any]])?.first)
            #expect((conversation["lastMessage"] as? [String: Any])?["content"] as? String == "bump")
            #expect(conversation["unreadCount"] as? Int == 1)
            #expect((conversation["members"] as? [Any])?.count == 2)

            #expect(try await api.request(.get, "/conversations?limit=0", as: ada).errorField == "limit")
            #expect(try await api.request(.get, "/conversations?cursor=nonsense!", as: ada).errorField == "cursor")
            let capped = try await api.request(.get, "/conversations?limit=5000", as: ada)
            #expect((capped["conversations"] as? [Any])?.count == 5)
        }
    }

    /// More conversations than SQLite's bind-parameter limit (32766), inserted in bulk: the
    /// old list bound one parameter per conversation and failed here forever.
    @Test("a user in more conversations than the bind limit pages through all of them once", arguments: TestBackend.allCases)
    func beyondTheBindLimit(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada")
            let count = 33_000
            try await api.services.database.transaction { sql in
                // Ties in activity on purpose (seven share each millisecond): the id breaks them.
                try await sql.raw("""
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(unsafeRaw: String(count)))
                    INSERT INTO conversations (id, kind, title, dm_key, created_at, last_activity_at)
                    SELECT 'bulk_' || CAST(i AS TEXT), 'group', 'bulk', NULL, 1000, 1000 + i / 7 FROM n
                    """).run()
                try await sql.raw("""
                    INSERT INTO members (conversation_id, user_id, role, joined_at, last_read_seq)
                    SELECT id, \(bind: ada.id), 'owner', 1000, 0 FROM conversations WHERE id LIKE 'bulk\\_%' ESCAPE '\\'
                    """).run()
            }
            let paged = try await Self.everything(api, as: ada, limit: 200)
            #expect(paged.ids.count == count)
            #expect(Set(paged.ids).count == count, "no conversation twice")
            #expect(paged.pages == (count + 199) / 200)
            // Most recent activity first, ties by id: the order the bulk insert implies.
            let expected = (1...count).map { (activity: 1000 + $0 / 7, id: "bulk_\($0)") }
                .sorted { $0.activity != $1.activity ? $0.activity > $1.activity : $0.id < $1.id }.map(\.id)
            #expect(paged.ids == expected)
        }
    }
}
