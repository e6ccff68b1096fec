import ChatAPI
import ChatTestSupport
import Foundation
import Hummingbird
import Testing

@Suite("Conversation routes")
struct ConversationRouteTests {
    @Test("a DM is created once for a pair, from either side", arguments: TestBackend.allCases)
    func dmIdempotent(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob")
            let first = try await api.request(.post, "/conversations", as: ada, json: ["kind": "dm", "userId": bob.id])
            #expect(first.status == .created)
            #expect(first.string("kind") == "dm")
            #expect(first["title"] is NSNull)
            #expect((first["members"] as? [[String: Any]])?.count == 2)
            #expect((first["call"] as? [String: Any])?["active"] as? Bool == false)
            let again = try await api.request(.post, "/conversations", as: bob, json: ["kind": "dm", "userId": ada.id])
            #expect(again.status == .ok)
            #expect(again.string("id") == first.string("id"))
        }
    }

    @Test("a DM with oneself, an unknown user or no userId is a 422", arguments: TestBackend.allCases)
    func dmInvalid(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada")
            #expect(try await api.request(.post, "/conversations", as: ada, json: ["kind": "dm", "userId": ada.id]).errorField == "userId")
            #expect(try await api.request(.post, "/conversations", as: ada, json: ["kind": "dm", "userId": "u_missing"]).errorField == "userId")
            #expect(try await api.request(.post, "/conversations", as: ada, json: ["kind": "dm"]).errorField == "userId")
            #expect(try await api.request(.post, "/conversations", as: ada, json: ["kind": "channel"]).errorField == "kind")
            #expect(try await api.request(.post, "/conversations", as: ada, json: ["kind": "group"]).errorField == "title")
            #expect(try await api.request(.post, "/conversations", as: ada,
                                          json: ["kind": "group", "title": " "]).errorField == "title")
            #expect(try await api.request(.post, "/conversations", as: ada,
                                          json: ["kind": "group", "title": "T", "memberIds": ["u_missing"]]).errorField == "memberIds")
            #expect(try await api.request(.post, "/conversations", as: ada,
                                          json: ["kind": "group", "title": "T", "memberIds": "u_x"]).errorField == "memberIds")
        }
    }

    @Test("a group has its creator as owner and the others as members", arguments: TestBackend.allCases)
    func createGroup(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob")
            let reply = try await api.request(.post, "/conversations", as: ada,
                                              json: ["kind": "group", "title": "Team", "memberIds": [bob.id, bob.id, ada.id]])
            #expect(reply.status == .created)
            let members = reply["members"] as? [[String: Any]] ?? []
            let roles = Dictionary(uniqueKeysWithValues: members.map { (($0["user"] as? [String: Any])?["id"] as? String ?? "", $0["role"] as? String ?? "") })
            #expect(roles == [ada.id: "owner", bob.id: "member"])
        }
    }

    @Test("someone else's conversation is a 404 on every route", arguments: TestBackend.allCases)
    func notMember(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob"), eve = try await api.signUp("Eve")
            let group = try await api.createGroup(ada, members: [bob])
            let message = try await api.send("hi", in: group, as: ada).string("id") ?? ""
            let probes: [(HTTPRequest.Method, String, [String: Any]?)] = [
                (.get, "/conversations/\(group)", nil),
                (.patch, "/conversations/\(group)", ["title": "Mine"]),
                (.post, "/conversations/\(group)/members", ["userId": eve.id]),
                (.delete, "/conversations/\(group)/members/\(bob.id)", nil),
                (.get, "/conversations/\(group)/messages", nil),
                (.post, "/conversations/\(group)/messages", ["content": "sneaky"]),
                (.patch, "/conversations/\(group)/messages/\(message)", ["content": "edited"]),
                (.delete, "/conversations/\(group)/messages/\(message)", nil),
                (.post, "/conversations/\(group)/read", ["messageId": message]),
                (.get, "/conversations/\(group)/call", nil),
                (.get, "/conversations/c_doesnotexist", nil),
                (.get, "/conversations/c_%00nul", nil),
            ]
            for (method, path, body) in probes {
                let reply = try await api.request(method, path, as: eve, json: body)
                #expect(reply.status == .notFound, "\(method) \(path)")
                #expect(reply.errorCode == "not_found")
            }
            let list = try await api.request(.get, "/conversations", as: eve)
            #expect((list["conversations"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("renaming needs owner or admin; a DM cannot be renamed", arguments: TestBackend.allCases)
    func rename(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob")
            let group = try await api.createGroup(ada, members: [bob])
            let denied = try await api.request(.patch, "/conversations/\(group)", as: bob, json: ["title": "Bob's"])
            #expect(denied.status == .forbidden)
            #expect(denied.errorCode == "forbidden")
            let promoted = try await api.request(.patch, "/conversations/\(group)/members/\(bob.id)", as: ada, json: ["role": "admin"])
            #expect(promoted.status == .ok)
            let renamed = try await api.request(.patch, "/conversations/\(group)", as: bob, json: ["title": "Bob's"])
            #expect(renamed.status == .ok)
            #expect(renamed.string("title") == "Bob's")
            #expect(try await api.request(.patch, "/conversations/\(group)", as: ada, json: ["title": ""]).errorField == "title")
            #expect(try await api.request(.patch, "/conversations/\(group)", as: ada,
                                          json: ["title": String(repeating: "t", count: 101)]).errorField == "title")
            #expect(try await api.request(.patch, "/conversations/\(group)/members/\(ada.id)", as: bob,
                                          json: ["role": "member"]).status == .forbidden)

            let dm = try await api.request(.post, "/conversations", as: ada, json: ["kind": "dm", "userId": bob.id]).string("id") ?? ""
            #expect(try await api.request(.patch, "/conversations/\(dm)", as: ada, json: ["title": "x"]).status == .forbidden)
        }
    }

    @Test("adding members: owner or admin only, once, known users only", arguments: TestBackend.allCases)
    func addMembers(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob"), cy = try await api.signUp("Cy")
            let group = try await api.createGroup(ada, members: [bob])
            #expect(try await api.request(.post, "/conversations/\(group)/members", as: bob, json: ["userId": cy.id]).status == .forbidden)
            let added = try await api.request(.post, "/conversations/\(group)/members", as: ada, json: ["userId": cy.id])
            #expect(added.status == .created)
            #expect((added["members"] as? [Any])?.count == 3)
            let twice = try await api.request(.post, "/conversations/\(group)/members", as: ada, json: ["userId": cy.id])
            #expect(twice.status == .conflict)
            #expect(try await api.request(.post, "/conversations/\(group)/members", as: ada,
                                          json: ["userId": "u_nobody"]).errorField == "userId")
            #expect(try await api.request(.post, "/conversations/\(group)/members", as: ada, json: [:]).errorField == "userId")
            #expect(try await api.request(.get, "/conversations/\(group)", as: cy).status == .ok)
        }
    }

    @Test("removing members: admins remove members, nobody removes the owner, anyone leaves", arguments: TestBackend.allCases)
    func removeMembers(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob")
            let cy = try await api.signUp("Cy"), dee = try await api.signUp("Dee")
            let group = try await api.createGroup(ada, members: [bob, cy, dee])
            #expect(try await api.request(.delete, "/conversations/\(group)/members/\(cy.id)", as: bob).status == .forbidden)
            _ = try await api.request(.patch, "/conversations/\(group)/members/\(bob.id)", as: ada, json: ["role": "admin"])
            #expect(try await api.request(.delete, "/conversations/\(group)/members/\(ada.id)", as: bob).status == .forbidden)
            // Admins remove anyone but the owner, other admins included.
            _ = try await api.request(.patch, "/conversations/\(group)/members/\(cy.id)", as: ada, json: ["role": "admin"])
            #expect(try await api.request(.delete, "/conversations/\(group)/members/\(cy.id)", as: bob).status == .noContent)
            #expect(try await api.request(.get, "/conversations/\(group)", as: cy).status == .notFound)
            #expect(try await api.request(.delete, "/conversations/\(group)/members/\(cy.id)", as: bob).status == .notFound)
            #expect(try await api.request(.delete, "/conversations/\(group)/members/\(dee.id)", as: dee).status == .noContent)

            // The owner leaves: the admin inherits the group.
            #expect(try await api.request(.delete, "/conversations/\(group)/members/\(ada.id)", as: ada).status == .noContent)
            let after = try await api.request(.get, "/conversations/\(group)", as: bob)
            let members = after["members"] as? [[String: Any]] ?? []
            #expect(members.count == 1)
            #expect(members.first?["role"] as? String == "owner")

            let dm = try await api.request(.post, "/conversations", as: bob, json: ["kind": "dm", "userId": cy.id]).string("id") ?? ""
            #expect(try await api.request(.delete, "/conversations/\(dm)/members/\(bob.id)", as: bob).status == .forbidden)
        }
    }

    @Test("the conversation list is ordered by latest activity with last message and unread count", arguments: TestBackend.allCases)
    func listOrder(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob")
            let first = try await api.createGroup(ada, title: "First", members: [bob])
            api.clock.advance(seconds: 1)
            let second = try await api.createGroup(ada, title: "Second", members: [bob])
            api.clock.advance(seconds: 1)
            var ids = (try await api.request(.get, "/conversations", as: bob)["conversations"] as? [[String: Any]] ?? [])
                .compactMap { $0["id"] as? String }
            #expect(ids == [second, first])
            _ = try await api.send("bump", in: first, as: ada)
            let list = try await api.request(.get, "/conversations", as: bob)["conversations"] as? [[String: Any]] ?? []
            ids = list.compactMap { $0["id"] as? String }
            #expect(ids == [first, second])
            #expect(list.first?["unreadCount"] as? Int == 1)
            #expect((list.first?["lastMessage"] as? [String: Any])?["content"] as? String == "bump")
            #expect(list.last?["lastMessage"] is NSNull)
        }
    }

    @Test("the call route reports no call for a member", arguments: TestBackend.allCases)
    func callState(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada")
            let group = try await api.createGroup(ada, members: [])
            let reply = try await api.request(.get, "/conversations/\(group)/call", as: ada)
            #expect(reply.status == .ok)
            #expect(reply["active"] as? Bool == false)
            #expect((reply["participants"] as? [Any])?.isEmpty == true)
        }
    }
}
