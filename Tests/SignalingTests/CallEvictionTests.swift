import ChatAPI
import Foundation
import Testing
@testable import SFU
@testable import Signaling

/// Call membership follows conversation membership and the login: each way a participant's
/// part ends without its own `call.leave` tells its connection why (`call.left`), tells the
/// others at once, and gives back its media transports. Real WebSockets, a real media engine.
@Suite struct CallEvictionTests {
    @Test("an administrator removing a member ends its part in the call; its later call frames are refused")
    func removedByAdmin() async throws {
        try await withSignaling(calls: .standard) { h in
            let scene = try await CallScene.make(h)
            try await h.request(.delete, "/conversations/\(scene.conversation)/members/\(scene.bob.id)", token: scene.ada.token)
            try await scene.expectBobLeft("removed")
            try await scene.expectBobGoneForAda()
            // Nothing more in that call: not a publish, not a join.
            scene.bobSocket.send("call.publish", id: "again", ["conversationId": scene.conversation, "sdp": publishOffer])
            #expect(try await scene.bobSocket.next("error", id: "again").errorCode == "not_found")
            scene.bobSocket.send("call.join", id: "rejoin", ["conversationId": scene.conversation])
            #expect(try await scene.bobSocket.next("error", id: "rejoin").errorCode == "not_found")
            try await h.media?.expectLive(participants: 1, transports: 1)
            await scene.close()
        }
    }

    @Test("a member leaving the conversation leaves its call, reason removed")
    func leftTheConversation() async throws {
        try await withSignaling(calls: .standard) { h in
            let scene = try await CallScene.make(h)
            try await h.request(.delete, "/conversations/\(scene.conversation)/members/\(scene.bob.id)", token: scene.bob.token)
            try await scene.expectBobLeft("removed")
            try await scene.expectBobGoneForAda()
            await scene.close()
        }
    }

    @Test("removing someone who is not in the call, or from another conversation, ends nobody's call")
    func removalElsewhereEndsNothing() async throws {
        try await withSignaling(calls: .standard) { h in
            let scene = try await CallScene.make(h)
            let cy = try await h.signUp("Cy")
            let other = try await h.group(scene.ada.token, members: [scene.bob.id, cy.id], title: "Other")
            try await h.request(.post, "/conversations/\(scene.conversation)/members", token: scene.ada.token, json: ["userId": cy.id])
            try await h.request(.delete, "/conversations/\(scene.conversation)/members/\(cy.id)", token: scene.ada.token)
            try await h.request(.delete, "/conversations/\(other)/members/\(scene.bob.id)", token: scene.ada.token)
            try await scene.bobSocket.expectNone("call.left")
            try await scene.adaSocket.expectNone("call.participant.left", within: .milliseconds(50))
            try await h.media?.expectLive(participants: 2, transports: 2)
            await scene.close()
        }
    }

    @Test("logout ends the login's part in its call before its socket closes with 4401")
    func logout() async throws {
        try await withSignaling(calls: .standard) { h in
            let scene = try await CallScene.make(h)
            try await h.request(.post, "/auth/logout", token: nil, json: ["refreshToken": scene.bob.refresh])
            try await scene.expectBobLeft("revoked")
            #expect(try await scene.bobSocket.closeCode() == CloseCode.unauthorized)
            try await scene.expectBobGoneForAda()
            await scene.close()
        }
    }

    @Test("refresh-token reuse revokes the login and ends its part in the call")
    func refreshReuse() async throws {
        try await withSignaling(calls: .standard) { h in
            let scene = try await CallScene.make(h)
            // Rotate, use the successor too, then present the first token again: reuse, by any grace.
            let rotated = try await h.request(.post, "/auth/refresh", token: nil, json: ["refreshToken": scene.bob.refresh])
            let successor = try #require(rotated["refreshToken"] as? String)
            try await h.request(.post, "/auth/refresh", token: nil, json: ["refreshToken": successor])
            let reused = try await h.request(.post, "/auth/refresh", token: nil, json: ["refreshToken": scene.bob.refresh])
            #expect((reused["error"] as? [String: Any])?["code"] as? String == "token_reused")
            try await scene.expectBobLeft("revoked")
            #expect(try await scene.bobSocket.closeCode() == CloseCode.unauthorized)
            try await scene.expectBobGoneForAda()
            await scene.close()
        }
    }

    @Test("another login of the same user ending leaves this one in its call")
    func otherLoginRevoked() async throws {
        try await withSignaling(calls: .standard) { h in
            let scene = try await CallScene.make(h)
            // A second login of Bob's (signing in again gives a new login id), then its logout.
            let email = try #require(try await h.request(.get, "/users/me", token: scene.bob.token)["email"] as? String)
            let second = try await h.request(.post, "/auth/login", token: nil, json: ["email": email, "password": "password123"])
            let secondRefresh = try #require(second["refreshToken"] as? String)
            try await h.request(.post, "/auth/logout", token: nil, json: ["refreshToken": secondRefresh])
            try await scene.bobSocket.expectNone("call.left")
            #expect(!scene.bobSocket.isClosed)
            try await h.media?.expectLive(participants: 2, transports: 2)
            await scene.close()
        }
    }

    @Test("joining another call from the same connection leaves the first, reason replaced")
    func joiningAnotherCallReplaces() async throws {
        try await withSignaling(calls: .standard) { h in
            let scene = try await CallScene.make(h)
            let other = try await h.group(scene.bob.token, members: [scene.ada.id], title: "Other")
            scene.bobSocket.send("call.join", id: "other", ["conversationId": other])
            try await scene.expectBobLeft("replaced")
            let config = try await scene.bobSocket.next("call.config", id: "other")
            #expect(config.data["conversationId"] as? String == other)
            try await scene.expectBobGoneForAda()
            // Bob is in the other call only.
            let first = try await h.request(.get, "/conversations/\(scene.conversation)/call", token: scene.ada.token)
            #expect((first["participants"] as? [[String: Any]])?.compactMap { $0["userId"] as? String } == [scene.ada.id])
            let second = try await h.request(.get, "/conversations/\(other)/call", token: scene.ada.token)
            #expect((second["participants"] as? [[String: Any]])?.compactMap { $0["userId"] as? String } == [scene.bob.id])
            await scene.close()
        }
    }

    @Test("the same user joining the call from another connection replaces the first connection")
    func secondConnectionReplaces() async throws {
        try await withSignaling(calls: .standard) { h in
            let scene = try await CallScene.make(h)
            let again = try await h.client(scene.bob.token)
            again.send("call.join", id: "again", ["conversationId": scene.conversation])
            _ = try await again.next("call.config", id: "again")
            try await scene.expectBobLeft("replaced")
            try await again.expectNone("call.left", within: .milliseconds(50))
            // The old participant's transport is given back; Ada keeps hers.
            try await h.media?.expectLive(participants: 1, transports: 1)
            await again.close()
            await scene.close()
        }
    }

    @Test("a lapsed media connection ends the participant's part, reason consent")
    func consentLapsed() async throws {
        // Neither transport ever gets a connectivity check, so each one's consent lapses (RFC 7675).
        try await withSignaling(calls: CallLimit(perUser: 2, consentTimeout: .seconds(2))) { h in
            let scene = try await CallScene.make(h)
            try await scene.expectBobLeft("consent")
            let adaLeft = try await scene.adaSocket.next("call.left")
            #expect(adaLeft.data["reason"] as? String == "consent")
            try await h.media?.expectLive(participants: 0, transports: 0)
            let call = try await h.request(.get, "/conversations/\(scene.conversation)/call", token: scene.ada.token)
            #expect(call["active"] as? Bool == false)
            await scene.close()
        }
    }

    @Test("a transport the engine reports closed ends only its own participant's part")
    func transportClosedEvent() async throws {
        try await withSignaling(calls: .standard) { h in
            let scene = try await CallScene.make(h)
            let calls = try #require(h.calls)
            let bob = try #require(try calls.directory.withRoom(scene.conversation) { room throws(CallError) in
                room.participant(scene.bob.id)?.id
            })
            try #require(h.mediaEvents).yield(.transportClosed(bob, .publish, reason: "DTLS failed"))
            try await scene.expectBobLeft("consent")
            try await scene.expectBobGoneForAda()
            try await scene.adaSocket.expectNone("call.left", within: .milliseconds(50))
            await scene.close()
        }
    }

    @Test("shutting down ends every call, reason server")
    func shutdown() async throws {
        try await withSignaling(calls: .standard) { h in
            let scene = try await CallScene.make(h)
            try await #require(h.calls).endAll()
            try await scene.expectBobLeft("server")
            let adaLeft = try await scene.adaSocket.next("call.left")
            #expect(adaLeft.data["reason"] as? String == "server")
            try await h.media?.expectLive(participants: 0, transports: 0)
            let call = try await h.request(.get, "/conversations/\(scene.conversation)/call", token: scene.ada.token)
            #expect(call["active"] as? Bool == false)
            await scene.close()
        }
    }

    @Test("CALL_MAX_PER_USER: a join past it is refused with limit_reached naming it, and the calls already joined stay")
    func callsPerUserLimit() async throws {
        try await withSignaling(calls: CallLimit(perUser: 2)) { h in
            let ada = try await h.signUp("Ada"), bob = try await h.signUp("Bob")
            var groups: [String] = []
            for index in 0..<3 { groups.append(try await h.group(ada.token, members: [bob.id], title: "G\(index)")) }
            var sockets: [WSTestClient] = []
            for (index, group) in groups.enumerated() {
                let socket = try await h.client(bob.token)
                sockets.append(socket)
                socket.send("call.join", id: "j\(index)", ["conversationId": group])
            }
            _ = try await sockets[0].next("call.config", id: "j0")
            _ = try await sockets[1].next("call.config", id: "j1")
            let refused = try await sockets[2].next("error", id: "j2")
            #expect(refused.errorCode == "limit_reached")
            let message = refused.data["message"] as? String ?? ""
            #expect(message.contains("CALL_MAX_PER_USER") && message.contains("2"), "\(message)")
            for (index, group) in groups.enumerated() {
                let call = try await h.request(.get, "/conversations/\(group)/call", token: ada.token)
                #expect(call["active"] as? Bool == (index < 2))
            }
            // Switching one connection's call is no extra call: allowed at the limit.
            sockets[1].send("call.join", id: "switch", ["conversationId": groups[2]])
            _ = try await sockets[1].next("call.config", id: "switch")
            // A rejoin of a call the user is in is no extra call either.
            sockets[2].send("call.join", id: "rejoin", ["conversationId": groups[0]])
            _ = try await sockets[2].next("call.config", id: "rejoin")
            for socket in sockets { await socket.close() }
        }
    }

    @Test("CALL_MAX_PER_USER off: no limit")
    func callsPerUserOff() async throws {
        try await withSignaling(calls: CallLimit(perUser: nil)) { h in
            let ada = try await h.signUp("Ada"), bob = try await h.signUp("Bob")
            var sockets: [WSTestClient] = []
            for index in 0..<3 {
                let group = try await h.group(ada.token, members: [bob.id], title: "G\(index)")
                let socket = try await h.client(bob.token)
                sockets.append(socket)
                socket.send("call.join", id: "j", ["conversationId": group])
                _ = try await socket.next("call.config", id: "j")
            }
            for socket in sockets { await socket.close() }
        }
    }

    @Test("a removal travels on the bus as a typed note every instance acts on")
    func busCarriesRemovals() throws {
        let removed = BusMessage(.memberRemoved(conversationId: "c1", userId: "u1", recipients: ["u1", "u2"]))
        #expect(removed.removedMember == .init(conversationId: "c1", userId: "u1"))
        let decoded = try JSONDecoder().decode(BusMessage.self, from: JSONEncoder().encode(removed))
        #expect(decoded == removed)
        #expect(BusMessage(.memberAdded(conversationId: "c1", userId: "u1", recipients: [])).removedMember == nil)
        #expect(BusMessage(.loginRevoked(loginId: "l1", userId: "u1")).revokedLogin == "l1")
    }
}
