import ChatAPI
import Foundation
import Signaling
import Testing

@Suite("WebSocket chat events")
struct EventTests {
    @Test("message.send is acknowledged once stored and reaches every connection of every member")
    func messageFanOut() async throws {
        try await withSignaling { env in
            let ada = try await env.signUp("Ada"), bob = try await env.signUp("Bob")
            let group = try await env.group(ada.token, members: [bob.id])
            let adaPhone = try await env.client(ada.token), adaLaptop = try await env.client(ada.token)
            let bobClient = try await env.client(bob.token)
            adaPhone.send("message.send", id: "s1", ["conversationId": group, "content": "hello", "clientMsgId": "c1"])
            let sent = try await adaPhone.next("message.sent")
            #expect(sent.id == "s1")
            let message = try #require(sent.data["message"] as? [String: Any])
            #expect(message["content"] as? String == "hello")
            // Stored before acknowledged: the REST history already has it.
            let history = try await env.request(.get, "/conversations/\(group)/messages", token: bob.token)
            #expect((history["messages"] as? [[String: Any]])?.first?["id"] as? String == message["id"] as? String)
            for client in [adaPhone, adaLaptop, bobClient] {
                let new = try await client.next("message.new")
                #expect((new.data["message"] as? [String: Any])?["id"] as? String == message["id"] as? String)
            }
            // A repeat of the clientMsgId: the same message, and no second message.new.
            adaPhone.send("message.send", id: "s2", ["conversationId": group, "content": "hello again", "clientMsgId": "c1"])
            let repeated = try await adaPhone.next("message.sent")
            #expect((repeated.data["message"] as? [String: Any])?["id"] as? String == message["id"] as? String)
            try await bobClient.expectNone("message.new")
            for client in [adaPhone, adaLaptop, bobClient] { await client.close() }
        }
    }

    @Test("a message posted over REST produces the same message.new")
    func restProducesEvents() async throws {
        try await withSignaling { env in
            let ada = try await env.signUp("Ada"), bob = try await env.signUp("Bob")
            let group = try await env.group(ada.token, members: [bob.id])
            let bobClient = try await env.client(bob.token)
            let posted = try await env.request(.post, "/conversations/\(group)/messages", token: ada.token, json: ["content": "via REST"])
            let new = try await bobClient.next("message.new")
            #expect((new.data["message"] as? [String: Any])?["id"] as? String == posted["id"] as? String)
            await bobClient.close()
        }
    }

    @Test("edit, delete and read produce message.updated, message.deleted and read.updated")
    func editDeleteRead() async throws {
        try await withSignaling { env in
            let ada = try await env.signUp("Ada"), bob = try await env.signUp("Bob")
            let group = try await env.group(ada.token, members: [bob.id])
            let adaClient = try await env.client(ada.token), bobClient = try await env.client(bob.token)
            adaClient.send("message.send", id: "s", ["conversationId": group, "content": "draft"])
            let id = try #require((try await adaClient.next("message.sent").data["message"] as? [String: Any])?["id"] as? String)

            adaClient.send("message.edit", id: "e", ["conversationId": group, "messageId": id, "content": "final"])
            let reply = try await adaClient.next("message.updated", id: "e")
            #expect((reply.data["message"] as? [String: Any])?["content"] as? String == "final")
            let updated = try await bobClient.next("message.updated")
            #expect((updated.data["message"] as? [String: Any])?["content"] as? String == "final")

            bobClient.send("message.edit", id: "e2", ["conversationId": group, "messageId": id, "content": "hijack"])
            #expect(try await bobClient.next("error").errorCode == "forbidden")

            bobClient.send("read", ["conversationId": group, "messageId": id])
            let read = try await adaClient.next("read.updated")
            #expect(read.data["userId"] as? String == bob.id)
            #expect(read.data["messageId"] as? String == id)

            adaClient.send("message.delete", id: "d", ["conversationId": group, "messageId": id])
            _ = try await adaClient.next("message.deleted", id: "d")
            let deleted = try await bobClient.next("message.deleted")
            #expect(deleted.data["messageId"] as? String == id)
            #expect(deleted.data["conversationId"] as? String == group)
            await adaClient.close()
            await bobClient.close()
        }
    }

    @Test("typing goes to the others, ends by itself after 6 s, on send and on disconnect")
    func typing() async throws {
        try await withSignaling { env in
            let ada = try await env.signUp("Ada"), bob = try await env.signUp("Bob")
            let group = try await env.group(ada.token, members: [bob.id])
            let adaClient = try await env.client(ada.token), bobClient = try await env.client(bob.token)

            adaClient.send("typing.start", ["conversationId": group])
            var typing = try await bobClient.next("typing")
            #expect(typing.data["userId"] as? String == ada.id)
            #expect(typing.data["typing"] as? Bool == true)
            try await adaClient.expectNone("typing")

            // bob joins the room and sees ada typing.
            bobClient.send("room.join", id: "j", ["conversationId": group])
            let joined = try await bobClient.next("room.joined")
            #expect(joined.id == "j")
            #expect(joined.data["typing"] as? [String] == [ada.id])
            #expect(Set(joined.data["online"] as? [String] ?? []) == [ada.id, bob.id])

            // Expiry: nothing at 5.9 s, typing false at 6 s.
            env.clock.advance(seconds: 5)
            await env.server.sweepTyping()
            try await bobClient.expectNone("typing", within: .milliseconds(100))
            env.clock.advance(seconds: 1)
            await env.server.sweepTyping()
            typing = try await bobClient.next("typing")
            #expect(typing.data["typing"] as? Bool == false)

            // Sending a message ends typing.
            adaClient.send("typing.start", ["conversationId": group])
            #expect(try await bobClient.next("typing").data["typing"] as? Bool == true)
            adaClient.send("message.send", ["conversationId": group, "content": "done"])
            #expect(try await bobClient.next("typing").data["typing"] as? Bool == false)

            // Disconnecting ends typing.
            adaClient.send("typing.start", ["conversationId": group])
            #expect(try await bobClient.next("typing").data["typing"] as? Bool == true)
            await adaClient.close()
            #expect(try await bobClient.next("typing").data["typing"] as? Bool == false)
            await bobClient.close()
        }
    }

    @Test("presence on first connect and last disconnect, with lastSeenAt stored")
    func presence() async throws {
        try await withSignaling { env in
            let ada = try await env.signUp("Ada"), bob = try await env.signUp("Bob")
            _ = try await env.group(ada.token, members: [bob.id])
            let bobClient = try await env.client(bob.token)
            let first = try await env.client(ada.token)
            let online = try await bobClient.next("presence")
            #expect(online.data["userId"] as? String == ada.id)
            #expect(online.data["online"] as? Bool == true)
            let second = try await env.client(ada.token)
            try await bobClient.expectNone("presence")
            let asSeen = try await env.request(.get, "/users?q=ada", token: bob.token)
            #expect(((asSeen["users"] as? [[String: Any]])?.first)?["online"] as? Bool == true)
            // Someone who shares no conversation with Ada does not see her presence.
            let eve = try await env.signUp("Eve")
            let asStranger = try await env.request(.get, "/users?q=ada", token: eve.token)
            #expect(((asStranger["users"] as? [[String: Any]])?.first)?["online"] as? Bool == false)

            env.clock.advance(seconds: 60)
            await first.close()
            try await bobClient.expectNone("presence")
            await second.close()
            let offline = try await bobClient.next("presence")
            #expect(offline.data["online"] as? Bool == false)
            let lastSeen = try #require(offline.data["lastSeenAt"] as? String)
            let stored = try await env.request(.get, "/users?q=ada", token: bob.token)
            let user = try #require((stored["users"] as? [[String: Any]])?.first)
            #expect(user["online"] as? Bool == false)
            #expect(user["lastSeenAt"] as? String == lastSeen)
            await bobClient.close()
        }
    }

    @Test("conversation and membership changes over REST reach every member, added and removed ones included")
    func membershipEvents() async throws {
        try await withSignaling { env in
            let ada = try await env.signUp("Ada"), bob = try await env.signUp("Bob"), cy = try await env.signUp("Cy")
            let adaClient = try await env.client(ada.token), bobClient = try await env.client(bob.token)
            let cyClient = try await env.client(cy.token)
            let group = try await env.group(ada.token, members: [bob.id])
            for client in [adaClient, bobClient] {
                let created = try await client.next("conversation.created")
                #expect((created.data["conversation"] as? [String: Any])?["id"] as? String == group)
            }
            try await cyClient.expectNone("conversation.created")

            try await env.request(.patch, "/conversations/\(group)", token: ada.token, json: ["title": "Renamed"])
            let updated = try await bobClient.next("conversation.updated")
            #expect((updated.data["conversation"] as? [String: Any])?["title"] as? String == "Renamed")

            try await env.request(.post, "/conversations/\(group)/members", token: ada.token, json: ["userId": cy.id])
            for client in [adaClient, bobClient, cyClient] {
                let added = try await client.next("member.added")
                #expect(added.data["userId"] as? String == cy.id)
            }
            // While a member Bob also got the system messages of the rename and the addition.
            for event in ["title_changed", "member_added"] {
                let system = try await bobClient.next("message.new")
                #expect(((system.data["message"] as? [String: Any])?["system"] as? [String: Any])?["event"] as? String == event)
            }
            try await env.request(.delete, "/conversations/\(group)/members/\(bob.id)", token: ada.token)
            for client in [adaClient, bobClient, cyClient] {
                let removed = try await client.next("member.removed")
                #expect(removed.data["userId"] as? String == bob.id)
            }
            // The removed member no longer gets the conversation's events (its removal's system
            // message included).
            _ = try await env.request(.post, "/conversations/\(group)/messages", token: ada.token, json: ["content": "after"])
            var contents: [String] = []
            while contents.last != "after" {
                contents.append((try await cyClient.next("message.new").data["message"] as? [String: Any])?["content"] as? String ?? "")
            }
            #expect(contents == ["Ada added Cy", "Ada removed Bob", "after"])
            try await bobClient.expectNone("message.new")
            for client in [adaClient, bobClient, cyClient] { await client.close() }
        }
    }

    @Test("room.join and room.leave answer members and refuse others")
    func rooms() async throws {
        try await withSignaling { env in
            let ada = try await env.signUp("Ada")
            let group = try await env.group(ada.token, members: [])
            let client = try await env.client(ada.token)
            client.send("room.join", id: "1", ["conversationId": group])
            let joined = try await client.next("room.joined")
            #expect(joined.data["online"] as? [String] == [ada.id])
            client.send("room.leave", id: "2", ["conversationId": group])
            #expect(try await client.next("room.left").id == "2")
            client.send("room.join", id: "3", ["conversationId": "c_nope"])
            #expect(try await client.next("error").errorCode == "not_found")
            await client.close()
        }
    }

    @Test("a reconnecting client subscribes first, then fetches what it missed: no gap, no duplicate")
    func reconnect() async throws {
        try await withSignaling { env in
            let ada = try await env.signUp("Ada"), bob = try await env.signUp("Bob")
            let group = try await env.group(ada.token, members: [bob.id])
            var bobClient = try await env.client(bob.token)
            _ = try await env.request(.post, "/conversations/\(group)/messages", token: ada.token, json: ["content": "seen"])
            let lastSeen = try #require((try await bobClient.next("message.new").data["message"] as? [String: Any])?["id"] as? String)
            await bobClient.close()

            var missed: [String] = []
            for index in 0..<3 {
                let posted = try await env.request(.post, "/conversations/\(group)/messages", token: ada.token, json: ["content": "while away \(index)"])
                missed.append(try #require(posted["id"] as? String))
            }
            // Subscribe first ...
            bobClient = try await env.client(bob.token)
            // ... a message lands between subscribing and fetching ...
            let racing = try #require(try await env.request(
                .post, "/conversations/\(group)/messages", token: ada.token, json: ["content": "in between"])["id"] as? String)
            // ... then fetch everything after the last message seen.
            let page = try await env.request(.get, "/conversations/\(group)/messages?after=\(lastSeen)", token: bob.token)
            let fetched = (page["messages"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            let live = try #require((try await bobClient.next("message.new").data["message"] as? [String: Any])?["id"] as? String)
            #expect(fetched == missed + [racing])
            #expect(live == racing)
            // Merging by id gives each message exactly once, in order.
            let merged = Array(Set(fetched + [live])).sorted()
            #expect(merged == missed + [racing])
            await bobClient.close()
        }
    }

    @Test("logout and refresh-token reuse end the login's open WebSocket sessions with 4401, and only those")
    func revokedLoginsLoseTheirSockets() async throws {
        try await withSignaling { env in
            let ada = try await env.signUp("Ada")
            let other = try await env.request(.post, "/auth/refresh", token: nil, json: ["refreshToken": ada.refresh])
            let rotated = try #require(other["refreshToken"] as? String)
            let rotatedAccess = try #require(other["accessToken"] as? String)
            let bob = try await env.signUp("Bob")
            let adaSocket = try await env.client(rotatedAccess), bobSocket = try await env.client(bob.token)

            // Presenting the spent refresh token again, past the reuse grace, revokes Ada's login:
            // her socket is closed.
            env.clock.advance(seconds: 11)
            _ = try await env.request(.post, "/auth/refresh", token: nil, json: ["refreshToken": ada.refresh])
            let ended = try await adaSocket.next("error")
            #expect(ended.errorCode == "unauthorized")
            let code = try await adaSocket.closeCode()
            #expect(code == 4401)
            #expect(!bobSocket.isClosed)

            // Logout does the same for Bob.
            _ = rotated
            try await env.request(.post, "/auth/logout", token: nil, json: ["refreshToken": bob.refresh])
            let bobCode = try await bobSocket.closeCode()
            #expect(bobCode == 4401)
        }
    }

    @Test("a read marker that does not move announces nothing")
    func staleRead() async throws {
        try await withSignaling { env in
            let ada = try await env.signUp("Ada"), bob = try await env.signUp("Bob")
            let group = try await env.group(ada.token, members: [bob.id])
            var ids: [String] = []
            for index in 0..<2 {
                let posted = try await env.request(.post, "/conversations/\(group)/messages", token: ada.token, json: ["content": "\(index)"])
                ids.append(try #require(posted["id"] as? String))
            }
            let adaSocket = try await env.client(ada.token)
            try await env.request(.post, "/conversations/\(group)/read", token: bob.token, json: ["messageId": ids[1]])
            #expect(try await adaSocket.next("read.updated").data["messageId"] as? String == ids[1])
            try await env.request(.post, "/conversations/\(group)/read", token: bob.token, json: ["messageId": ids[0]])
            try await adaSocket.expectNone("read.updated")
            await adaSocket.close()
        }
    }

    @Test("when the owner leaves, the members hear of the new owner")
    func ownerLeaves() async throws {
        try await withSignaling { env in
            let ada = try await env.signUp("Ada"), bob = try await env.signUp("Bob")
            let group = try await env.group(ada.token, members: [bob.id])
            let bobSocket = try await env.client(bob.token)
            try await env.request(.delete, "/conversations/\(group)/members/\(ada.id)", token: ada.token)
            #expect(try await bobSocket.next("member.removed").data["userId"] as? String == ada.id)
            let updated = try await bobSocket.next("conversation.updated")
            let members = (updated.data["conversation"] as? [String: Any])?["members"] as? [[String: Any]] ?? []
            #expect(members.count == 1)
            #expect(members.first?["role"] as? String == "owner")
            await bobSocket.close()
        }
    }
}
