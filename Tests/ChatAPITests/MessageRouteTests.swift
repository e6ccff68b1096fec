import ChatAPI
import ChatTestSupport
import Foundation
import Hummingbird
import Testing

@Suite("Message routes")
struct MessageRouteTests {
    @Test("a message is stored as sent and returned with 201", arguments: TestBackend.allCases)
    func send(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada")
            let group = try await api.createGroup(ada, members: [])
            let text = "  héllo 👋🏽 world  "
            let reply = try await api.send(text, in: group, as: ada, clientMsgId: "c-1")
            #expect(reply.status == .created)
            #expect(reply.string("content") == text)
            #expect(reply.string("clientMsgId") == "c-1")
            #expect(reply.string("conversationId") == group)
            #expect((reply["sender"] as? [String: Any])?["id"] as? String == ada.id)
            #expect(reply["editedAt"] is NSNull)
            #expect(reply["deletedAt"] is NSNull)
            let created = try #require(reply.string("createdAt"))
            #expect(created.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression) != nil)
        }
    }

    @Test("a repeated clientMsgId returns the first message with 200 and stores nothing new", arguments: TestBackend.allCases)
    func duplicateClientMsgId(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob")
            let group = try await api.createGroup(ada, members: [bob])
            let first = try await api.send("once", in: group, as: ada, clientMsgId: "same")
            let again = try await api.send("twice?", in: group, as: ada, clientMsgId: "same")
            #expect(again.status == .ok)
            #expect(again.string("id") == first.string("id"))
            #expect(again.string("content") == "once")
            // Another sender may use the same clientMsgId.
            #expect(try await api.send("bob's", in: group, as: bob, clientMsgId: "same").status == .created)
            let page = try await api.request(.get, "/conversations/\(group)/messages", as: ada)
            #expect((page["messages"] as? [Any])?.count == 2)
        }
    }

    @Test("content limits: 1 to 4000 characters, not only white space", arguments: TestBackend.allCases)
    func contentLimits(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada")
            let group = try await api.createGroup(ada, members: [])
            for bad in ["", " \n\t ", String(repeating: "x", count: 4001), "nul\u{0}inside"] {
                let reply = try await api.send(bad, in: group, as: ada)
                #expect(reply.status == .unprocessableContent)
                #expect(reply.errorField == "content")
            }
            // 4000 characters of multi-byte emoji count as 4000.
            #expect(try await api.send(String(repeating: "👍🏽", count: 4000), in: group, as: ada).status == .created)
            let wrongType = try await api.request(.post, "/conversations/\(group)/messages", as: ada, json: ["content": 5])
            #expect(wrongType.errorField == "content")
            let badId = try await api.request(.post, "/conversations/\(group)/messages", as: ada,
                                              json: ["content": "x", "clientMsgId": String(repeating: "c", count: 65)])
            #expect(badId.errorField == "clientMsgId")
            let malformed = try await api.request(.post, "/conversations/\(group)/messages", as: ada, raw: "{content:")
            #expect(malformed.status == .badRequest)
        }
    }

    @Test("paging 120 messages back and forth finds each exactly once, in order", arguments: TestBackend.allCases)
    func pagination(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada")
            let group = try await api.createGroup(ada, members: [])
            var sent: [String] = []
            for index in 0..<120 { sent.append(try await api.send("m\(index)", in: group, as: ada).string("id") ?? "") }
            #expect(sent == sent.sorted(), "message ids sort in send order")

            func page(_ query: String) async throws -> ([String], Bool) {
                let reply = try await api.request(.get, "/conversations/\(group)/messages\(query)", as: ada)
                #expect(reply.status == .ok)
                let ids = (reply["messages"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                return (ids, reply["hasMore"] as? Bool ?? false)
            }
            // Backwards from the newest page.
            var backwards: [String] = []
            var (ids, hasMore) = try await page("?limit=25")
            backwards = ids + backwards
            while hasMore {
                (ids, hasMore) = try await page("?limit=25&before=\(backwards[0])")
                backwards = ids + backwards
            }
            #expect(backwards == sent)
            // Forwards from the oldest.
            var forwards = [sent[0]]
            repeat {
                (ids, hasMore) = try await page("?limit=30&after=\(forwards.last!)")
                forwards += ids
            } while hasMore
            #expect(forwards == sent)

            let newest = try await page("")
            #expect(newest.0 == Array(sent.suffix(50)))
            #expect(newest.1)
            let capped = try await page("?limit=500")
            #expect(capped.0.count == 100)
            let last = try await page("?after=\(sent.last!)")
            #expect(last.0.isEmpty && !last.1)
        }
    }

    @Test("bad paging parameters are 422s naming them", arguments: TestBackend.allCases)
    func badPaging(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada")
            let group = try await api.createGroup(ada, members: [])
            let other = try await api.createGroup(ada, members: [])
            let foreign = try await api.send("elsewhere", in: other, as: ada).string("id") ?? ""
            let id = try await api.send("here", in: group, as: ada).string("id") ?? ""
            for (query, field) in [("limit=0", "limit"), ("limit=-3", "limit"), ("limit=ten", "limit"),
                                   ("before=nonsense", "before"), ("after=\(foreign)", "after"),
                                   ("before=\(id)&after=\(id)", "before")] {
                let reply = try await api.request(.get, "/conversations/\(group)/messages?\(query)", as: ada)
                #expect(reply.status == .unprocessableContent, "\(query)")
                #expect(reply.errorField == field, "\(query)")
            }
        }
    }

    @Test("only the author edits; edits set editedAt", arguments: TestBackend.allCases)
    func edit(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob")
            let group = try await api.createGroup(ada, members: [bob])
            let id = try await api.send("first", in: group, as: bob).string("id") ?? ""
            api.clock.advance(seconds: 5)
            #expect(try await api.request(.patch, "/conversations/\(group)/messages/\(id)", as: ada,
                                          json: ["content": "owner edit"]).status == .forbidden)
            let edited = try await api.request(.patch, "/conversations/\(group)/messages/\(id)", as: bob, json: ["content": "second"])
            #expect(edited.status == .ok)
            #expect(edited.string("content") == "second")
            #expect(edited.string("editedAt") != nil)
            #expect(try await api.request(.patch, "/conversations/\(group)/messages/\(id)", as: bob,
                                          json: ["content": ""]).errorField == "content")
            #expect(try await api.request(.patch, "/conversations/\(group)/messages/m_unknown", as: bob,
                                          json: ["content": "x"]).status == .notFound)
        }
    }

    @Test("delete leaves a tombstone; author or group owner/admin may delete", arguments: TestBackend.allCases)
    func delete(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob"), cy = try await api.signUp("Cy")
            let group = try await api.createGroup(ada, members: [bob, cy])
            let bobs = try await api.send("bob's", in: group, as: bob).string("id") ?? ""
            let cys = try await api.send("cy's", in: group, as: cy).string("id") ?? ""
            #expect(try await api.request(.delete, "/conversations/\(group)/messages/\(cys)", as: bob).status == .forbidden)
            #expect(try await api.request(.delete, "/conversations/\(group)/messages/\(bobs)", as: bob).status == .noContent)
            #expect(try await api.request(.delete, "/conversations/\(group)/messages/\(cys)", as: ada).status == .noContent)
            #expect(try await api.request(.delete, "/conversations/\(group)/messages/\(cys)", as: ada).status == .noContent)
            let page = try await api.request(.get, "/conversations/\(group)/messages", as: cy)
            let messages = page["messages"] as? [[String: Any]] ?? []
            #expect(messages.map { $0["id"] as? String } == [bobs, cys])
            #expect(messages.allSatisfy { $0["content"] as? String == "" && $0["deletedAt"] is String })
            #expect(try await api.request(.patch, "/conversations/\(group)/messages/\(bobs)", as: bob,
                                          json: ["content": "revive"]).status == .notFound)

            // In a DM nobody moderates: only the author deletes.
            let dm = try await api.request(.post, "/conversations", as: ada, json: ["kind": "dm", "userId": bob.id]).string("id") ?? ""
            let inDM = try await api.send("dm", in: dm, as: bob).string("id") ?? ""
            #expect(try await api.request(.delete, "/conversations/\(dm)/messages/\(inDM)", as: ada).status == .forbidden)
        }
    }

    @Test("read markers drive unreadCount, counting later messages from others", arguments: TestBackend.allCases)
    func readMarkers(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob")
            let group = try await api.createGroup(ada, members: [bob])
            var ids: [String] = []
            for index in 0..<5 { ids.append(try await api.send("a\(index)", in: group, as: ada).string("id") ?? "") }
            _ = try await api.send("bob's own", in: group, as: bob)
            func unread() async throws -> Int? {
                try await api.request(.get, "/conversations/\(group)", as: bob)["unreadCount"] as? Int
            }
            #expect(try await unread() == 5)
            #expect(try await api.request(.post, "/conversations/\(group)/read", as: bob, json: ["messageId": ids[2]]).status == .noContent)
            #expect(try await unread() == 2)
            // Going backwards does not un-read.
            _ = try await api.request(.post, "/conversations/\(group)/read", as: bob, json: ["messageId": ids[0]])
            #expect(try await unread() == 2)
            _ = try await api.request(.delete, "/conversations/\(group)/messages/\(ids[4])", as: ada)
            #expect(try await unread() == 1)
            #expect(try await api.request(.post, "/conversations/\(group)/read", as: bob,
                                          json: ["messageId": "m_nope"]).errorField == "messageId")
            // Only the canonical spelling of an id is one: upper case is not the same message.
            #expect(try await api.request(.post, "/conversations/\(group)/read", as: bob,
                                          json: ["messageId": ids[4].uppercased()]).errorField == "messageId")
            #expect(try await api.request(.post, "/conversations/\(group)/read", as: bob, json: [:]).errorField == "messageId")
        }
    }
}
