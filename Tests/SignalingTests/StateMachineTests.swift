import ChatAPI
import Signaling
import SFU
import Testing

@Suite("Typing and presence state")
struct StateMachineTests {
    let key = TypingTracker.Key(conversationId: "c", userId: "u")

    @Test("typing is announced once, refreshed by later starts, and expires 6 s after the last")
    func typingExpiry() {
        var tracker = TypingTracker()
        let r1 = tracker.start(key, connection: 1, now: .init(milliseconds: 0))
        #expect(r1)
        let r2 = tracker.start(key, connection: 1, now: .init(milliseconds: 4000))
        #expect(!r2)
        let r3 = tracker.expire(now: .init(milliseconds: 9999))
        #expect(r3.isEmpty)
        let r4 = tracker.expire(now: .init(milliseconds: 10_000))
        #expect(r4 == [key])
        let r5 = tracker.stop(key)
        #expect(!r5)
    }

    @Test("stop and disconnect end typing; other connections' typing stays")
    func typingStopAndDrop() {
        var tracker = TypingTracker()
        let other = TypingTracker.Key(conversationId: "c", userId: "v")
        _ = tracker.start(key, connection: 1, now: .init(milliseconds: 0))
        _ = tracker.start(other, connection: 2, now: .init(milliseconds: 0))
        let r6 = tracker.drop(connection: 1)
        #expect(r6 == [key])
        let r7 = tracker.stop(other)
        #expect(r7)
        let r8 = tracker.stop(other)
        #expect(!r8)
    }

    @Test("a user is online while any instance holds them")
    func presenceAcrossInstances() {
        var view = PresenceView()
        let r9 = view.apply(userId: "u", instance: "a", online: true)
        #expect(r9)
        let r10 = view.apply(userId: "u", instance: "b", online: true)
        #expect(!r10)
        let r11 = view.apply(userId: "u", instance: "a", online: false)
        #expect(!r11)
        #expect(view.isOnline("u"))
        let r12 = view.apply(userId: "u", instance: "b", online: false)
        #expect(r12)
        #expect(!view.isOnline("u"))
    }
}

@Suite("Client frame parsing")
struct ClientFrameTests {
    @Test("every client frame type parses", arguments: [
        (#"{"type":"ping","id":"1","data":{}}"#, ClientFrame.Request.ping),
        (#"{"type":"auth","data":{"token":"t"}}"#, .auth(token: "t")),
        (#"{"type":"room.join","data":{"conversationId":"c"}}"#, .roomJoin(conversationId: "c")),
        (#"{"type":"room.leave","data":{"conversationId":"c"}}"#, .roomLeave(conversationId: "c")),
        (#"{"type":"message.send","data":{"conversationId":"c","content":"x","clientMsgId":"k"}}"#,
         .messageSend(conversationId: "c", content: "x", clientMsgId: "k")),
        (#"{"type":"message.edit","data":{"conversationId":"c","messageId":"m","content":"y"}}"#,
         .messageEdit(conversationId: "c", messageId: "m", content: "y")),
        (#"{"type":"message.delete","data":{"conversationId":"c","messageId":"m"}}"#, .messageDelete(conversationId: "c", messageId: "m")),
        (#"{"type":"typing.start","data":{"conversationId":"c"}}"#, .typing(conversationId: "c", started: true)),
        (#"{"type":"typing.stop","data":{"conversationId":"c"}}"#, .typing(conversationId: "c", started: false)),
        (#"{"type":"read","data":{"conversationId":"c","messageId":"m"}}"#, .read(conversationId: "c", messageId: "m")),
        (#"{"type":"call.join","data":{"conversationId":"c"}}"#, .callJoin(conversationId: "c")),
        (#"{"type":"call.leave","data":{"conversationId":"c"}}"#, .callLeave(conversationId: "c")),
        (#"{"type":"call.publish","data":{"conversationId":"c","sdp":"v=0"}}"#, .callPublish(conversationId: "c", sdp: "v=0", tracks: [])),
        (#"{"type":"call.publish","data":{"conversationId":"c","sdp":"v=0","tracks":[{"mid":"1","source":"screen"}]}}"#,
         .callPublish(conversationId: "c", sdp: "v=0", tracks: [.init(mid: "1", source: "screen")])),
        (#"{"type":"call.subscribe.answer","data":{"conversationId":"c","sdp":"v=0","revision":3}}"#,
         .callSubscribeAnswer(conversationId: "c", sdp: "v=0", revision: 3)),
        (#"{"type":"call.candidate","data":{"conversationId":"c","pc":"publish","candidate":{"candidate":"x"}}}"#,
         .callCandidate(conversationId: "c", pc: "publish")),
        (#"{"type":"call.mute","data":{"conversationId":"c","trackId":"t","muted":true}}"#, .callMute(conversationId: "c", trackId: "t", muted: true)),
        (#"{"type":"call.quality","data":{"conversationId":"c","trackId":"t","quality":"low"}}"#,
         .callQuality(conversationId: "c", trackId: "t", quality: "low")),
    ])
    func parses(_ text: String, _ expected: ClientFrame.Request) throws {
        #expect(try ClientFrame(parsing: text).request == expected)
    }

    @Test("bad frames are errors naming what is wrong", arguments: [
        ("", "malformed", nil), ("{", "malformed", nil), ("42", "malformed", nil),
        (#"{"id":"1"}"#, "invalid_field", "type"), (#"{"type":7}"#, "invalid_field", "type"),
        (#"{"type":"room.join"}"#, "invalid_field", "data"), (#"{"type":"room.join","data":[]}"#, "invalid_field", "data"),
        (#"{"type":"room.join","data":{}}"#, "invalid_field", "conversationId"),
        (#"{"type":"message.send","data":{"conversationId":"c","content":null}}"#, "invalid_field", "content"),
        (#"{"type":"call.subscribe.answer","data":{"conversationId":"c","sdp":"v=0","revision":"3"}}"#, "invalid_field", "revision"),
        (#"{"type":"call.candidate","data":{"conversationId":"c","pc":"other"}}"#, "invalid_field", "pc"),
        (#"{"type":"call.mute","data":{"conversationId":"c","trackId":"t"}}"#, "invalid_field", "muted"),
        (#"{"type":"call.publish","data":{"conversationId":"c"}}"#, "invalid_field", "sdp"),
    ] as [(String, String, String?)])
    func refuses(_ text: String, _ code: String, _ field: String?) {
        #expect {
            _ = try ClientFrame(parsing: text)
        } throws: { error in
            guard let error = error as? ClientFrame.FrameError else { return false }
            return error.error.code == code && (field == nil || error.error.field == field)
        }
    }
}

@Suite("ICE servers handed out in call.config")
struct ICEServerConfigurationTests {
    @Test func stunAsIsAndTurnWithEphemeralCredentials() {
        let configuration = ICEServerConfiguration(stunURLs: ["stun:stun.example.com:3478"],
                                                   turnURLs: ["turn:turn.example.com:3478?transport=udp", "turns:turn.example.com:5349"],
                                                   turnSecret: "s3cret", turnTTL: 600)
        let servers = configuration.servers(for: "user-1", now: 1_000)
        #expect(servers.count == 2)
        #expect(servers[0] == .init(urls: ["stun:stun.example.com:3478"]))
        #expect(servers[1].urls.count == 2)
        #expect(servers[1].username == "1600:user-1")
        #expect(servers[1].credential == TurnCredentials(secret: "s3cret", userId: "user-1", now: 1_000, ttl: 600).credential)
    }

    @Test func nothingConfiguredHandsOutNothing() {
        #expect(ICEServerConfiguration().servers(for: "u", now: 0).isEmpty)
    }
}
