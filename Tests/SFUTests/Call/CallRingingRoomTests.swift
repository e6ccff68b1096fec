import DTLS
import ICE
import SDP
import Testing
@testable import SFU

/// The ringing rules of `CallRoom` alone: effects out, no frames, no clock but the one given.
@Suite struct CallRingingRoomTests {
    let local = LocalTransport(
        credentials: ICECredentials(ufrag: "srvufrag", password: "0123456789abcdefghijklmn"),
        fingerprint: DTLSFingerprint(algorithm: .sha256, digest: Array(repeating: 0xAB, count: 32)),
        candidates: ["a=candidate:1 1 udp 2130706431 127.0.0.1 7882 typ host"], address: "127.0.0.1", sessionId: 1)

    func ringing(direct: Bool) -> CallRoom {
        var room = CallRoom(callId: "call", conversationId: "c", isDirect: direct, startedAt: 1_000)
        _ = room.join(userId: "ada", displayName: "Ada", id: ParticipantID(rawValue: 1), connectionId: 1, subscribe: local)
        return room
    }

    @Test func aDeclineEndsADirectCallForTheCaller() throws {
        var room = ringing(direct: true)
        let effects = try room.decline(userId: "bob")
        #expect(effects.first == .declined(userId: "bob"))
        #expect(effects.dropFirst().first == .ended(userId: "ada", participant: ParticipantID(rawValue: 1), reason: .declined))
        #expect(effects.contains(.left(userId: "ada", participant: ParticipantID(rawValue: 1))))
        #expect(room.isEmpty)
    }

    @Test func aDeclineInAGroupEndsNothingAndAParticipantCannotDecline() throws {
        var room = ringing(direct: false)
        #expect(try room.decline(userId: "bob") == [.declined(userId: "bob")])
        #expect(throws: CallError.alreadyInCall) { try room.decline(userId: "ada") }
        #expect(room.participants.count == 1)
    }

    @Test func ringingExpiresOnlyUnansweredDirectCallsAtTheTimeout() {
        var room = ringing(direct: true)
        #expect(room.ringExpired(now: 1_000 + 44_999, timeout: 45_000).isEmpty)
        let effects = room.ringExpired(now: 1_000 + 45_000, timeout: 45_000)
        #expect(effects.first == .ended(userId: "ada", participant: ParticipantID(rawValue: 1), reason: .unanswered))
        #expect(room.isEmpty)
        var group = ringing(direct: false)
        #expect(group.ringExpired(now: 10_000_000, timeout: 45_000).isEmpty)
    }

    @Test func answeredDirectCallsLeaveTheLastOneAloneButARejoinIsNotALeave() {
        var room = ringing(direct: true)
        _ = room.join(userId: "bob", displayName: "Bob", id: ParticipantID(rawValue: 2), connectionId: 2, subscribe: local)
        #expect(room.answered)
        #expect(room.ringExpired(now: 10_000_000, timeout: 45_000).isEmpty)
        // Bob joins again from another connection: Ada is not alone for that.
        let rejoin = room.join(userId: "bob", displayName: "Bob", id: ParticipantID(rawValue: 3), connectionId: 3, subscribe: local)
        #expect(!rejoin.contains { if case .ended = $0 { true } else { false } })
        let effects = room.leave(userId: "bob")
        #expect(effects.contains(.ended(userId: "ada", participant: ParticipantID(rawValue: 1), reason: .alone)))
        #expect(room.isEmpty)
    }
}
