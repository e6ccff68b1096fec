import ChatAPI
import ChatTestSupport
import Foundation
import Hummingbird
import Testing

/// Per-user budgets (429 with Retry-After) and caps (409 limit_reached) over REST.
@Suite struct LimitRouteTests {
    static func limits(_ change: (inout ChatLimits) -> Void) -> ChatLimits {
        var limits = ChatLimits.unlimited
        change(&limits)
        return limits
    }

    @Test("sending messages spends a per-user budget, answered 429 with Retry-After", arguments: TestBackend.allCases)
    func messageBudget(_ backend: TestBackend) async throws {
        try await withAPI(backend, limits: Self.limits { $0.messages = .init(limit: 3, windowMilliseconds: 10_000) }) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob")
            let group = try await api.createGroup(ada, members: [bob])
            for index in 0..<3 { #expect(try await api.send("m\(index)", in: group, as: ada).status == .created) }
            let refused = try await api.send("one too many", in: group, as: ada)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.errorCode == "rate_limited")
            let retryAfter = try #require(refused.headers[.retryAfter].flatMap { Int($0) })
            #expect((1...4).contains(retryAfter))
            #expect(try await api.send("bob's own budget", in: group, as: bob).status == .created)
            api.clock.advance(seconds: Int64(retryAfter))
            #expect(try await api.send("later", in: group, as: ada).status == .created)
            #expect(try await api.send("and again too soon", in: group, as: ada).status == .tooManyRequests)
        }
    }

    @Test("a rename writes a line into the history, so it spends the message budget", arguments: TestBackend.allCases)
    func renameBudget(_ backend: TestBackend) async throws {
        try await withAPI(backend, limits: Self.limits { $0.messages = .init(limit: 2, windowMilliseconds: 10_000) }) { api in
            let ada = try await api.signUp("Ada")
            let group = try await api.createGroup(ada, members: [])
            #expect(try await api.request(.patch, "/conversations/\(group)", as: ada, json: ["title": "One"]).status == .ok)
            #expect(try await api.send("and a message", in: group, as: ada).status == .created)
            let refused = try await api.request(.patch, "/conversations/\(group)", as: ada, json: ["title": "Two"])
            #expect(refused.status == .tooManyRequests && refused.errorCode == "rate_limited")
            let history = try await api.request(.get, "/conversations/\(group)/messages", as: ada)
            #expect((history["messages"] as? [[String: Any]])?.count == 2, "the refused rename left no line")
        }
    }

    @Test("creating conversations, adding members and searching each have a budget", arguments: TestBackend.allCases)
    func otherBudgets(_ backend: TestBackend) async throws {
        let limits = Self.limits {
            $0.conversations = .init(limit: 2, windowMilliseconds: 60_000)
            $0.members = .init(limit: 1, windowMilliseconds: 60_000)
            $0.search = .init(limit: 2, windowMilliseconds: 60_000)
        }
        try await withAPI(backend, limits: limits) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob"), cy = try await api.signUp("Cy")
            let group = try await api.createGroup(ada, members: [])
            #expect(try await api.request(.post, "/conversations", as: ada, json: ["kind": "dm", "userId": bob.id]).status == .created)
            let third = try await api.request(.post, "/conversations", as: ada, json: ["kind": "group", "title": "x", "memberIds": []])
            #expect(third.status == .tooManyRequests && third.errorCode == "rate_limited" && third.headers[.retryAfter] != nil)

            #expect(try await api.request(.post, "/conversations/\(group)/members", as: ada, json: ["userId": bob.id]).status == .created)
            let member = try await api.request(.post, "/conversations/\(group)/members", as: ada, json: ["userId": cy.id])
            #expect(member.status == .tooManyRequests && member.errorCode == "rate_limited")

            #expect(try await api.request(.get, "/users?q=B", as: ada).status == .ok)
            #expect(try await api.request(.get, "/users?q=C", as: ada).status == .ok)
            let search = try await api.request(.get, "/users?q=D", as: ada)
            #expect(search.status == .tooManyRequests && search.errorCode == "rate_limited")

            api.clock.advance(seconds: 60)
            #expect(try await api.request(.get, "/users?q=D", as: ada).status == .ok)
            #expect(try await api.request(.post, "/conversations/\(group)/members", as: ada, json: ["userId": cy.id]).status == .created)
        }
    }

    @Test("GROUP_MAX_MEMBERS caps a group at creation and on adding, with 409 limit_reached", arguments: TestBackend.allCases)
    func groupCap(_ backend: TestBackend) async throws {
        try await withAPI(backend, limits: Self.limits { $0.groupMaxMembers = 3 }) { api in
            let ada = try await api.signUp("Ada")
            var others: [Person] = []
            for name in ["B", "C", "D"] { others.append(try await api.signUp(name)) }
            let tooBig = try await api.request(.post, "/conversations", as: ada,
                                               json: ["kind": "group", "title": "big", "memberIds": others.map(\.id)])
            #expect(tooBig.status == .conflict)
            #expect(tooBig.errorCode == "limit_reached")
            #expect(((tooBig.json["error"] as? [String: Any])?["message"] as? String)?.contains("GROUP_MAX_MEMBERS") == true)
            let group = try await api.createGroup(ada, members: Array(others.prefix(2)))
            let add = try await api.request(.post, "/conversations/\(group)/members", as: ada, json: ["userId": others[2].id])
            #expect(add.status == .conflict && add.errorCode == "limit_reached")
        }
    }

    @Test("the caps hold under concurrent requests: one place left, many adds at once, one wins", arguments: TestBackend.allCases)
    func capsUnderConcurrency(_ backend: TestBackend) async throws {
        try await withAPI(backend, limits: Self.limits { $0.groupMaxMembers = 3; $0.userMaxConversations = 3 }) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob")
            var candidates: [Person] = []
            for index in 0..<8 { candidates.append(try await api.signUp("P\(index)")) }
            let group = try await api.createGroup(ada, members: [bob])
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { tasks in
                for person in candidates {
                    tasks.addTask { try await api.request(.post, "/conversations/\(group)/members", as: ada, json: ["userId": person.id]).status }
                }
                return try await tasks.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .created }.count == 1, "\(statuses)")
            #expect(statuses.filter { $0 == .conflict }.count == candidates.count - 1, "\(statuses)")

            // One user pulled into many new groups at once: USER_MAX_CONVERSATIONS holds too.
            let cy = try await api.signUp("Cy")
            let creations = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { tasks in
                for owner in candidates {
                    tasks.addTask {
                        try await api.request(.post, "/conversations", as: owner, json: ["kind": "group", "title": "t", "memberIds": [cy.id]]).status
                    }
                }
                return try await tasks.reduce(into: []) { $0.append($1) }
            }
            #expect(creations.filter { $0 == .created }.count == 3, "\(creations)")
        }
    }

    @Test("USER_MAX_CONVERSATIONS caps the conversations one user can be in", arguments: TestBackend.allCases)
    func userCap(_ backend: TestBackend) async throws {
        try await withAPI(backend, limits: Self.limits { $0.userMaxConversations = 2 }) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob"), cy = try await api.signUp("Cy")
            _ = try await api.createGroup(ada, members: [])
            _ = try await api.createGroup(ada, members: [])
            let third = try await api.request(.post, "/conversations", as: ada, json: ["kind": "dm", "userId": bob.id])
            #expect(third.status == .conflict && third.errorCode == "limit_reached")
            #expect(((third.json["error"] as? [String: Any])?["message"] as? String)?.contains("USER_MAX_CONVERSATIONS") == true)
            // Someone else at the cap cannot be pulled into more.
            let bobs = try await api.createGroup(bob, members: [])
            let add = try await api.request(.post, "/conversations/\(bobs)/members", as: bob, json: ["userId": ada.id])
            #expect(add.status == .conflict && add.errorCode == "limit_reached")
            let withAda = try await api.request(.post, "/conversations", as: cy, json: ["kind": "group", "title": "t", "memberIds": [ada.id]])
            #expect(withAda.status == .conflict && withAda.errorCode == "limit_reached")
            #expect(try await api.request(.post, "/conversations/\(bobs)/members", as: bob, json: ["userId": cy.id]).status == .created)
        }
    }
}
