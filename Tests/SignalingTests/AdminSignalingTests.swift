import ChatAPI
import Foundation
import Testing
@testable import SFU
@testable import Signaling

/// What administration does to live connections: deactivating an account closes its sockets
/// with 4401 and takes it out of its calls at once; a bot authenticates its socket with its
/// API token, cannot join calls, and loses its sockets when deleted. Real WebSockets.
@Suite struct AdminSignalingTests {
    @Test("deactivating a user ends its part in the call (reason revoked) and closes its socket with 4401")
    func deactivationEndsSocketsAndCalls() async throws {
        try await withSignaling(calls: .standard) { h in
            let scene = try await CallScene.make(h)  // Ada signed up first: the administrator
            let reply = try await h.request(.post, "/admin/users/\(scene.bob.id)/deactivate", token: scene.ada.token)
            #expect(reply["error"] == nil)
            try await scene.expectBobLeft("revoked")
            #expect(try await scene.bobSocket.closeCode() == CloseCode.unauthorized)
            try await scene.expectBobGoneForAda()
            // A new socket with the old token is refused.
            let again = WSTestClient(port: h.port)
            again.send("auth", id: "a", ["token": scene.bob.token])
            #expect(try await again.next("error").errorCode == "unauthorized")
            #expect(try await again.closeCode() == CloseCode.unauthorized)
            await scene.close()
        }
    }

    @Test("a bot's token authenticates a WebSocket; the bot receives messages and is refused call.join with forbidden")
    func botOnTheSocket() async throws {
        try await withSignaling(calls: .standard) { h in
            let ada = try await h.signUp("Ada")
            let made = try await h.request(.post, "/admin/bots", token: ada.token, json: ["displayName": "Bot"])
            let token = try #require(made["token"] as? String)
            let botId = try #require((made["user"] as? [String: Any])?["id"] as? String)
            let group = try await h.group(ada.token, members: [botId])
            let socket = WSTestClient(port: h.port)
            socket.send("auth", id: "auth-1", ["token": token])
            let success = try await socket.next("auth.success")
            #expect((success.data["user"] as? [String: Any])?["role"] as? String == "bot")
            try await h.request(.post, "/conversations/\(group)/messages", token: ada.token, json: ["content": "hello bot"])
            let delivered = try await socket.next("message.new")
            #expect((delivered.data["message"] as? [String: Any])?["content"] as? String == "hello bot")
            socket.send("call.join", id: "join", ["conversationId": group])
            #expect(try await socket.next("error", id: "join").errorCode == "forbidden")
            #expect(h.calls?.directory.members(of: group).isEmpty == true)
            // Deleting the bot closes its socket.
            try await h.request(.delete, "/admin/bots/\(botId)", token: ada.token)
            #expect(try await socket.closeCode() == CloseCode.unauthorized)
        }
    }

    @Test("a call's first join records call_started and the room emptying records call_ended with its length")
    func callHistory() async throws {
        try await withSignaling(calls: .standard) { h in
            let ada = try await h.signUp("Ada"), bob = try await h.signUp("Bob")
            let group = try await h.group(ada.token, members: [bob.id])
            let adaSocket = try await h.client(ada.token), bobSocket = try await h.client(bob.token)
            adaSocket.send("call.join", id: "join", ["conversationId": group])
            _ = try await adaSocket.next("call.config", id: "join")
            let started = try await bobSocket.next("message.new")
            let startedMessage = try #require(started.data["message"] as? [String: Any])
            #expect(startedMessage["kind"] as? String == "system")
            #expect((startedMessage["system"] as? [String: Any])?["event"] as? String == "call_started")
            #expect((startedMessage["system"] as? [String: Any])?["actorId"] as? String == ada.id)
            #expect(try await adaSocket.next("message.new").text == started.text)
            // A second participant starts nothing new.
            bobSocket.send("call.join", id: "join", ["conversationId": group])
            _ = try await bobSocket.next("call.config", id: "join")
            try await adaSocket.expectNone("message.new")
            h.clock.advance(seconds: 75)
            for socket in [adaSocket, bobSocket] {
                socket.send("call.leave", id: "leave", ["conversationId": group])
            }
            let ended = try await bobSocket.next("message.new")
            let endedSystem = try #require((ended.data["message"] as? [String: Any])?["system"] as? [String: Any])
            #expect(endedSystem["event"] as? String == "call_ended")
            #expect(endedSystem["durationSeconds"] as? Int == 75)
            let page = try await h.request(.get, "/conversations/\(group)/messages", token: ada.token)
            let events = (page["messages"] as? [[String: Any]] ?? []).compactMap { ($0["system"] as? [String: Any])?["event"] as? String }
            #expect(events == ["call_started", "call_ended"])
            await adaSocket.close()
            await bobSocket.close()
        }
    }
}
