import ChatAPI
import SFU
import Testing
@testable import Signaling

/// `call.join` on `CallSignaling` alone: who is told what, the two limits, the one-call-per-
/// connection rule and the membership check. A refused join must change nothing.
@Suite struct CallJoinTests {
    @Test("a member joins: config with the frame's id, who is there already, and call.state to the members")
    func join() async throws {
        try await withCallSignaling { f in
            let adaSocket = f.connect(f.ada), bobSocket = f.connect(f.bob)
            try await f.calls.join(f.conversation, id: "j1", caller: f.ada, connection: adaSocket)
            let adaFrames = f.outbox.take(adaSocket)
            #expect(adaFrames.map(\.type) == ["call.config", "call.participants"])
            #expect(adaFrames[0].id == "j1" && !(adaFrames[0].data["callId"] as? String ?? "").isEmpty)
            #expect((adaFrames[1].data["participants"] as? [Any])?.isEmpty == true)
            let announced = f.outbox.takeAnnouncements()
            #expect(announced.map(\.conversationId) == [f.conversation])
            #expect(announced.first?.frame.type == "call.state")
            #expect(announced.first?.frame.data["participants"] as? [String] == [f.ada.userId])

            try await f.calls.join(f.conversation, id: "j2", caller: f.bob, connection: bobSocket)
            let bobFrames = f.outbox.take(bobSocket)
            #expect(bobFrames.map(\.type) == ["call.config", "call.participants"])
            let present = bobFrames[1].data["participants"] as? [[String: Any]]
            #expect(present?.map { $0["userId"] as? String } == [f.ada.userId])
            #expect(present?.first?["displayName"] as? String == "Ada")
            let told = f.outbox.take(adaSocket)
            #expect(told.map(\.type) == ["call.participant.joined"])
            #expect(told.first?.data["userId"] as? String == f.bob.userId)
            #expect(f.outbox.takeAnnouncements().last?.frame.data["participants"] as? [String] == [f.ada.userId, f.bob.userId])
            #expect(f.inCall(f.conversation) == [f.ada.userId, f.bob.userId])
            #expect(f.media.take().isEmpty, "nothing is opened before a publish or a subscribe offer")
        }
    }

    @Test("someone outside the conversation is told it does not exist, and no call is made")
    func nonMember() async throws {
        try await withCallSignaling { f in
            let eveSocket = f.connect(f.eve)
            let error = await #expect(throws: APIError.self) {
                try await f.calls.join(f.conversation, id: "j", caller: f.eve, connection: eveSocket)
            }
            #expect(error?.code == "not_found")
            let unknown = await #expect(throws: APIError.self) {
                try await f.calls.join("c_does_not_exist", id: "j", caller: f.eve, connection: eveSocket)
            }
            #expect(unknown?.code == "not_found", "a conversation that exists and one that does not look the same")
            #expect(f.inCall(f.conversation).isEmpty)
            #expect(f.outbox.take(eveSocket).isEmpty && f.outbox.takeAnnouncements().isEmpty)
        }
    }

    @Test("a full call refuses the next member and changes nothing; one already in it may come back")
    func callFull() async throws {
        try await withCallSignaling(maxParticipants: 2) { f in
            let adaSocket = f.connect(f.ada), bobSocket = f.connect(f.bob), cySocket = f.connect(f.cy)
            try await f.calls.join(f.conversation, id: nil, caller: f.ada, connection: adaSocket)
            try await f.calls.join(f.conversation, id: nil, caller: f.bob, connection: bobSocket)
            f.clear(adaSocket, bobSocket)

            await #expect(throws: CallError.callFull(limit: 2)) {
                try await f.calls.join(f.conversation, id: "j", caller: f.cy, connection: cySocket)
            }
            #expect(f.inCall(f.conversation) == [f.ada.userId, f.bob.userId])
            #expect(f.outbox.take(adaSocket).isEmpty && f.outbox.take(bobSocket).isEmpty && f.outbox.take(cySocket).isEmpty)
            #expect(f.outbox.takeAnnouncements().isEmpty && f.media.take().isEmpty)

            // Bob again, from a second connection: not a third participant, so not refused.
            let bobAgain = f.connect(f.bob)
            try await f.calls.join(f.conversation, id: "j", caller: f.bob, connection: bobAgain)
            #expect(f.outbox.take(bobSocket).map(\.type) == ["call.left"])
            #expect(f.outbox.take(bobAgain).first?.type == "call.config")
            #expect(f.inCall(f.conversation) == [f.ada.userId, f.bob.userId])
        }
    }

    @Test("a user in as many calls as allowed is refused another and keeps the one it has")
    func tooManyCalls() async throws {
        try await withCallSignaling(maxCallsPerUser: 1) { f in
            let other = try await f.group(f.ada, with: [f.bob])
            let first = f.connect(f.ada), second = f.connect(f.ada)
            try await f.calls.join(f.conversation, id: nil, caller: f.ada, connection: first)
            let participant = try f.participant(f.ada)
            f.clear(first)

            await #expect(throws: CallError.tooManyCalls(limit: 1)) {
                try await f.calls.join(other, id: "j", caller: f.ada, connection: second)
            }
            #expect(f.inCall(f.conversation) == [f.ada.userId] && f.inCall(other).isEmpty)
            #expect(try f.participant(f.ada) == participant)
            #expect(f.outbox.take(first).isEmpty && f.outbox.take(second).isEmpty && f.media.take().isEmpty)
        }
    }

    @Test("a connection is in one call: joining another leaves the first, reason replaced, and its others are told")
    func replacedByAnotherCall() async throws {
        try await withCallSignaling(maxCallsPerUser: 1) { f in
            let other = try await f.group(f.ada, with: [f.cy])
            let adaSocket = f.connect(f.ada), bobSocket = f.connect(f.bob)
            try await f.calls.join(f.conversation, id: nil, caller: f.ada, connection: adaSocket)
            try await f.calls.join(f.conversation, id: nil, caller: f.bob, connection: bobSocket)
            let first = try f.participant(f.ada)
            f.clear(adaSocket, bobSocket)

            // The same connection: the calls-per-user limit counts the call it leaves as gone.
            try await f.calls.join(other, id: "j", caller: f.ada, connection: adaSocket)
            let adaFrames = f.outbox.take(adaSocket)
            #expect(adaFrames.map(\.type) == ["call.left", "call.config", "call.participants"])
            #expect(adaFrames[0].data["conversationId"] as? String == f.conversation)
            #expect(adaFrames[0].data["reason"] as? String == "replaced")
            let bobFrames = f.outbox.take(bobSocket)
            #expect(bobFrames.map(\.type) == ["call.participant.left"])
            #expect(bobFrames.first?.data["userId"] as? String == f.ada.userId)
            #expect(f.media.take() == [.remove(first)])
            #expect(f.inCall(f.conversation) == [f.bob.userId] && f.inCall(other) == [f.ada.userId])
            let announced = f.outbox.takeAnnouncements().map(\.conversationId)
            #expect(announced.contains(f.conversation) && announced.contains(other))
        }
    }
}
