import ChatAPI
import SFU
import Testing
@testable import Signaling

/// Ringing on `CallSignaling` alone (docs/protocol.md "Calls", ringing): `call.decline`, and a
/// DM call ending for the caller when it is declined, unanswered or left alone. In a group a
/// decline is news for the participants and ends nothing.
@Suite struct CallRingingTests {
    /// Ada calls Bob in their DM; what the join sent is taken.
    func adaCallsBob(_ f: CallSignalingFixture) async throws -> (dm: String, ada: Connection) {
        let dm = try await f.services.conversations.openDM(with: f.bob.userId, f.ada).0.id
        let adaSocket = f.connect(f.ada)
        try await f.calls.join(dm, id: nil, caller: f.ada, connection: adaSocket)
        f.clear(adaSocket)
        return (dm, adaSocket)
    }

    @Test("a declined DM call ends for the caller: call.declined, then call.left declined, and the call is over")
    func declinedDirectCall() async throws {
        try await withCallSignaling { f in
            let (dm, adaSocket) = try await adaCallsBob(f)
            let ada = try f.participant(f.ada, in: dm)
            try await f.calls.decline(dm, caller: f.bob)
            let told = f.outbox.take(adaSocket)
            #expect(told.map(\.type) == ["call.declined", "call.left"])
            #expect(told.first?.data["userId"] as? String == f.bob.userId)
            #expect(told.last?.data["reason"] as? String == "declined")
            #expect(f.inCall(dm).isEmpty && f.media.take() == [.remove(ada)])
            #expect(f.outbox.takeAnnouncements().last?.frame.data["active"] as? Bool == false)
            // The call is gone: declining again is no error and sends nothing.
            try await f.calls.decline(dm, caller: f.bob)
            #expect(f.outbox.take(adaSocket).isEmpty)
        }
    }

    @Test("in a group a decline tells the participants and ends nothing")
    func declinedGroupCall() async throws {
        try await withCallSignaling { f in
            let adaSocket = f.connect(f.ada)
            try await f.calls.join(f.conversation, id: nil, caller: f.ada, connection: adaSocket)
            f.clear(adaSocket)
            try await f.calls.decline(f.conversation, caller: f.cy)
            #expect(f.outbox.take(adaSocket).map(\.type) == ["call.declined"])
            #expect(f.inCall(f.conversation) == [f.ada.userId])
        }
    }

    @Test("a participant cannot decline, and a stranger gets not_found")
    func hostileDeclines() async throws {
        try await withCallSignaling { f in
            let (dm, adaSocket) = try await adaCallsBob(f)
            await #expect(throws: CallError.alreadyInCall) { try await f.calls.decline(dm, caller: f.ada) }
            await #expect { try await f.calls.decline(dm, caller: f.eve) } throws: { error in
                (error as? APIError)?.code == "not_found"
            }
            #expect(f.outbox.take(adaSocket).isEmpty && f.inCall(dm) == [f.ada.userId])
        }
    }

    @Test("a DM call nobody answers ends for the caller after the ring timeout, and only then")
    func unansweredDirectCall() async throws {
        let time = ManualWallClock()
        try await withCallSignaling(ringTimeout: .seconds(45), clock: time.clock) { f in
            let (dm, adaSocket) = try await adaCallsBob(f)
            time.advance(by: .seconds(44))
            await f.calls.sweepUnanswered()
            #expect(f.outbox.take(adaSocket).isEmpty && f.inCall(dm) == [f.ada.userId])
            time.advance(by: .seconds(1))
            await f.calls.sweepUnanswered()
            let told = f.outbox.take(adaSocket)
            #expect(told.map(\.type) == ["call.left"] && told.first?.data["reason"] as? String == "unanswered")
            #expect(f.inCall(dm).isEmpty)
        }
    }

    @Test("an answered DM call does not time out, and ends for the one left when the other leaves")
    func aloneInDirectCall() async throws {
        let time = ManualWallClock()
        try await withCallSignaling(clock: time.clock) { f in
            let (dm, adaSocket) = try await adaCallsBob(f)
            let bobSocket = f.connect(f.bob)
            try await f.calls.join(dm, id: nil, caller: f.bob, connection: bobSocket)
            f.clear(adaSocket, bobSocket)
            time.advance(by: .seconds(120))
            await f.calls.sweepUnanswered()
            #expect(f.inCall(dm) == [f.ada.userId, f.bob.userId])
            try await f.calls.leave(dm, caller: f.bob)
            let told = f.outbox.take(adaSocket)
            #expect(told.map(\.type) == ["call.left"], "the call is over for Ada; call.left says why")
            #expect(told.last?.data["reason"] as? String == "alone")
            #expect(f.outbox.take(bobSocket).isEmpty, "Bob left on his own; he is not told")
            #expect(f.inCall(dm).isEmpty)
        }
    }

    @Test("a group call goes on with one participant, and never times out")
    func groupCallNeverRingsOut() async throws {
        let time = ManualWallClock()
        try await withCallSignaling(clock: time.clock) { f in
            let adaSocket = f.connect(f.ada), bobSocket = f.connect(f.bob)
            try await f.calls.join(f.conversation, id: nil, caller: f.ada, connection: adaSocket)
            try await f.calls.join(f.conversation, id: nil, caller: f.bob, connection: bobSocket)
            try await f.calls.leave(f.conversation, caller: f.bob)
            time.advance(by: .seconds(600))
            await f.calls.sweepUnanswered()
            #expect(f.inCall(f.conversation) == [f.ada.userId])
            #expect(!f.outbox.take(adaSocket).contains { $0.type == "call.left" })
        }
    }
}

/// The history lines a call writes are bounded like messages: its start spends the starter's
/// message budget, and a start that was not recorded records no end.
@Suite struct CallHistoryBudgetTests {
    @Test("joining and leaving a call in a loop writes no more history lines than the message budget allows")
    func callChurnIsBounded() async throws {
        var limits = ChatLimits.unlimited
        limits.messages = .init(limit: 2, windowMilliseconds: 60_000)
        try await withCallSignaling(limits: limits) { f in
            let socket = f.connect(f.ada)
            for _ in 0..<5 {
                try await f.calls.join(f.conversation, id: nil, caller: f.ada, connection: socket)
                try await f.calls.leave(f.conversation, caller: f.ada)
            }
            let page = try await f.services.messages.page(f.conversation, before: nil, after: nil, limit: "100", f.ada)
            let events = page.messages.compactMap { $0.system?.event.rawValue }
            #expect(events == ["call_started", "call_ended", "call_started", "call_ended"])
        }
    }
}
