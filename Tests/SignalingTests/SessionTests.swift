import ChatAPI
import Foundation
import HTTPTypes
import Signaling
import Testing

@Suite("WebSocket sessions: authentication and bad frames")
struct SessionTests {
    @Test("auth by first frame and by ?token= both succeed with the user")
    func authentication() async throws {
        try await withSignaling { env in
            let ada = try await env.signUp("Ada")
            let byFrame = WSTestClient(port: env.port)
            byFrame.send("auth", id: "a1", ["token": ada.token])
            let success = try await byFrame.next()
            #expect(success.type == "auth.success")
            #expect(success.id == "a1")
            #expect((success.data["user"] as? [String: Any])?["id"] as? String == ada.id)
            // Read raw: the reply comes right behind the handshake (see badTokenQuery).
            let byQuery = try await RawUpgrade.attempt(port: env.port, query: "?token=\(ada.token)", until: ada.id, wait: .seconds(20))
            #expect(byQuery.status == 101)
            #expect(byQuery.text.contains(#""type":"auth.success""#))
            #expect(byQuery.text.contains(ada.id))
            await byFrame.close()
        }
    }

    @Test("a bad token in the first frame gets error unauthorized and close 4401")
    func badTokenFrame() async throws {
        try await withSignaling { env in
            let client = WSTestClient(port: env.port)
            client.send("auth", id: "x", ["token": "not-a-token"])
            let error = try await client.next()
            #expect(error.errorCode == "unauthorized")
            #expect(error.id == "x")
            #expect(try await client.closeCode() == 4401)
        }
    }

    /// Read as raw bytes: swift-websocket's client can miss a frame that arrives in the same
    /// read as the handshake response, which is exactly when this one comes.
    @Test("a bad ?token= gets error unauthorized and close 4401")
    func badTokenQuery() async throws {
        try await withSignaling { env in
            let answer = try await RawUpgrade.attempt(port: env.port, query: "?token=not-a-token")
            #expect(answer.status == 101)
            #expect(answer.text.contains(#""code":"unauthorized""#))
            #expect(answer.closeCode == 4401)
        }
    }

    @Test("a first frame that is not auth is refused with 4401")
    func firstFrameNotAuth() async throws {
        try await withSignaling { env in
            let client = WSTestClient(port: env.port)
            client.send("ping")
            let reply = try await client.next()
            let code = try await client.closeCode()
            #expect(reply.errorCode == "unauthorized")
            #expect(code == 4401)
        }
    }

    @Test("no auth within the time limit closes with 4408")
    func authTimeout() async throws {
        try await withSignaling(options: .test { $0.authTimeout = .milliseconds(200) }) { env in
            let client = WSTestClient(port: env.port)
            let code = try await client.closeCode()
            #expect(code == 4408)
        }
    }

    @Test("bad frames get error frames with their id and the connection goes on")
    func badFrames() async throws {
        try await withSignaling { env in
            let ada = try await env.signUp("Ada"), eve = try await env.signUp("Eve")
            let group = try await env.group(ada.token, members: [])
            let client = try await env.client(eve.token)

            client.sendRaw("this is not json")
            #expect(try await client.next("error").errorCode == "malformed")
            client.sendRaw("[1,2,3]")
            #expect(try await client.next("error").errorCode == "malformed")
            client.send("no.such.type", id: "u1")
            var error = try await client.next("error")
            #expect(error.id == "u1")
            #expect(error.errorCode == "invalid_field")
            #expect(error.data["field"] as? String == "type")
            client.send("message.send", id: "m1", ["conversationId": group])
            error = try await client.next("error")
            #expect(error.id == "m1")
            #expect(error.data["field"] as? String == "content")
            client.send("message.send", id: "m2", ["conversationId": 42, "content": "x"])
            error = try await client.next("error")
            #expect(error.data["field"] as? String == "conversationId")
            client.send(["type": "room.join", "id": "r0", "data": "nope"])
            #expect(try await client.next("error").id == "r0")
            // Events for a conversation the user is not in: not_found, never a hint it exists.
            for (type, data) in [("message.send", ["conversationId": group, "content": "hi"]),
                                 ("room.join", ["conversationId": group]), ("typing.start", ["conversationId": group]),
                                 ("read", ["conversationId": group, "messageId": "m0000000000001"])] {
                client.send(type, id: "nm-\(type)", data)
                let reply = try await client.next("error")
                #expect(reply.errorCode == "not_found", "\(type)")
                #expect(reply.id == "nm-\(type)")
            }
            client.send("ping", id: "p1")
            let pong = try await client.next("pong")
            #expect(pong.id == "p1")
            #expect(!client.isClosed)
            await client.close()
        }
    }

    @Test("a frame over 64 KiB closes with 4413")
    func oversizeFrame() async throws {
        try await withSignaling { env in
            let ada = try await env.signUp("Ada")
            let client = try await env.client(ada.token)
            client.send("ping", ["padding": String(repeating: "x", count: 70_000)])
            #expect(try await client.closeCode() == 4413)
        }
    }

    @Test("a client sending faster than the limit is closed with 4429")
    func rateLimit() async throws {
        try await withSignaling(options: .test { $0.framesPerSecond = 5; $0.frameBurst = 10 }) { env in
            let ada = try await env.signUp("Ada")
            let client = try await env.client(ada.token)
            for index in 0..<40 { client.send("ping", id: "p\(index)") }
            #expect(try await client.closeCode() == 4429)
        }
    }

    @Test("a browser origin must be the server's own or allowed (else forbidden, 4403); scripts are let in")
    func origin() async throws {
        try await withSignaling(options: .test { $0.origins = OriginPolicy(allowed: ["https://chat.example.com"]) }) { env in
            let cases: [(String?, Bool)] = [
                ("https://evil.example.com", false), ("http://127.0.0.1:1", false), ("https://chat.example.com", true),
                ("http://127.0.0.1:\(env.port)", true), ("ws://script.local", true), (nil, true),
            ]
            for (origin, allowed) in cases {
                let answer = try await RawUpgrade.attempt(port: env.port, origin: origin)
                #expect(answer.status == 101)
                if allowed {
                    #expect(!answer.text.contains("forbidden"), "Origin: \(origin ?? "none")")
                    #expect(answer.closeCode != 4403)
                } else {
                    #expect(answer.text.contains(#""code":"forbidden""#), "Origin: \(origin ?? "none")")
                    #expect(answer.closeCode == 4403, "Origin: \(origin ?? "none")")
                }
            }
        }
    }
}
