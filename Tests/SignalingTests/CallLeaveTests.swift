import ChatAPI
import SFU
import Testing
@testable import Signaling

/// How a part in a call ends on `CallSignaling` alone: asked for (`call.leave`), the connection
/// closing, or ended by the server from the bus (a member removed, a login revoked), each with
/// the media plane letting go of the participant. Messages about someone else end nothing.
@Suite struct CallLeaveTests {
    /// Ada and Bob in the call, what that sent taken.
    func adaAndBob(_ f: CallSignalingFixture) async throws -> (ada: Connection, bob: Connection) {
        let adaSocket = f.connect(f.ada), bobSocket = f.connect(f.bob)
        try await f.calls.join(f.conversation, id: nil, caller: f.ada, connection: adaSocket)
        try await f.calls.join(f.conversation, id: nil, caller: f.bob, connection: bobSocket)
        f.clear(adaSocket, bobSocket)
        return (adaSocket, bobSocket)
    }

    @Test("call.leave: the others are told, the media plane lets go, call.state goes to the members; leaving twice is refused")
    func leave() async throws {
        try await withCallSignaling { f in
            let (adaSocket, bobSocket) = try await adaAndBob(f)
            let bob = try f.participant(f.bob)
            try await f.calls.leave(f.conversation, caller: f.bob)
            let told = f.outbox.take(adaSocket)
            #expect(told.map(\.type) == ["call.participant.left"] && told.first?.data["userId"] as? String == f.bob.userId)
            #expect(f.outbox.take(bobSocket).isEmpty, "Bob asked; he is not told")
            #expect(f.media.take() == [.remove(bob)])
            #expect(f.outbox.takeAnnouncements().map { $0.frame.data["participants"] as? [String] } == [[f.ada.userId]])
            #expect(f.inCall(f.conversation) == [f.ada.userId])
            await #expect(throws: CallError.notInCall) { try await f.calls.leave(f.conversation, caller: f.bob) }
        }
    }

    @Test("a closed connection leaves its call without call.left; the last one out ends the call")
    func connectionClosed() async throws {
        try await withCallSignaling { f in
            let (adaSocket, bobSocket) = try await adaAndBob(f)
            await f.calls.connectionClosed(bobSocket)
            #expect(f.outbox.take(bobSocket).isEmpty)
            #expect(f.outbox.take(adaSocket).map(\.type) == ["call.participant.left"])
            await f.calls.connectionClosed(adaSocket)
            #expect(f.inCall(f.conversation).isEmpty)
            #expect(f.outbox.takeAnnouncements().last?.frame.data["active"] as? Bool == false)
            #expect(f.media.take().count == 2)
        }
    }

    @Test("a member removed from the conversation leaves its call, reason removed; a removal elsewhere ends nothing")
    func removedMember() async throws {
        try await withCallSignaling { f in
            let (adaSocket, bobSocket) = try await adaAndBob(f)
            let bob = try f.participant(f.bob)
            f.calls.deliver(BusMessage(.memberRemoved(conversationId: "c_elsewhere", userId: f.bob.userId, recipients: [])))
            f.calls.deliver(BusMessage(.memberRemoved(conversationId: f.conversation, userId: f.cy.userId, recipients: [])))
            #expect(f.inCall(f.conversation) == [f.ada.userId, f.bob.userId] && f.media.take().isEmpty)

            f.calls.deliver(BusMessage(.memberRemoved(conversationId: f.conversation, userId: f.bob.userId, recipients: [])))
            let left = f.outbox.take(bobSocket)
            #expect(left.map(\.type) == ["call.left"] && left.first?.data["reason"] as? String == "removed")
            #expect(f.outbox.take(adaSocket).map(\.type) == ["call.participant.left"])
            #expect(f.media.take() == [.remove(bob)])
            #expect(f.inCall(f.conversation) == [f.ada.userId])
        }
    }

    @Test("a revoked login's connections leave their calls, reason revoked; another login's stay")
    func revokedLogin() async throws {
        try await withCallSignaling { f in
            let (adaSocket, bobSocket) = try await adaAndBob(f)
            f.calls.deliver(BusMessage(.loginRevoked(loginId: "l_someone_else", userId: f.bob.userId)))
            #expect(f.inCall(f.conversation) == [f.ada.userId, f.bob.userId])
            f.calls.deliver(BusMessage(.loginRevoked(loginId: f.bob.loginId, userId: f.bob.userId)))
            #expect(f.outbox.take(bobSocket).first?.data["reason"] as? String == "revoked")
            #expect(f.outbox.take(adaSocket).map(\.type) == ["call.participant.left"])
            #expect(f.inCall(f.conversation) == [f.ada.userId])
        }
    }

    @Test("shutting down ends every part, each connection told reason server")
    func endAll() async throws {
        try await withCallSignaling { f in
            let (adaSocket, bobSocket) = try await adaAndBob(f)
            await f.calls.endAll()
            #expect(f.outbox.take(adaSocket).first?.data["reason"] as? String == "server")
            #expect(f.outbox.take(bobSocket).first?.data["reason"] as? String == "server")
            #expect(f.inCall(f.conversation).isEmpty && f.media.take().count == 2)
        }
    }

    @Test("a member removed from the conversation can do nothing more in its call, though its eviction has not arrived")
    func removedMemberIsRefused() async throws {
        try await withCallSignaling { f in
            let (_, bobSocket) = try await adaAndBob(f)
            try await f.services.conversations.removeMember(f.conversation, userId: f.bob.userId, f.ada)
            for attempt in [
                { try await f.calls.leave(f.conversation, caller: f.bob) },
                { try await f.calls.mute(f.conversation, trackId: "t", muted: true, caller: f.bob) },
                { try await f.calls.candidate(f.conversation, caller: f.bob) },
                { try await f.calls.join(f.conversation, id: "j", caller: f.bob, connection: bobSocket) },
            ] as [@Sendable () async throws -> Void] {
                let error = await #expect(throws: APIError.self) { try await attempt() }
                #expect(error?.code == "not_found")
            }
            #expect(f.inCall(f.conversation) == [f.ada.userId, f.bob.userId], "only the bus's eviction ends the part")
            #expect(f.media.take().isEmpty)
        }
    }
}
