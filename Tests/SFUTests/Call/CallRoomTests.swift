import CodecTestSupport
import DTLS
import Foundation
import ICE
import Testing
@testable import SFU
@testable import SDP

/// The call signaling state machine: who is told what, and the subscribe offer/answer rule.
@Suite struct CallRoomTests {
    let local = LocalTransport(
        credentials: ICECredentials(ufrag: "srvufrag", password: "0123456789abcdefghijklmn"),
        fingerprint: DTLSFingerprint(algorithm: .sha256, digest: Array(repeating: 0xAB, count: 32)),
        candidates: ["a=candidate:1 1 udp 2130706431 127.0.0.1 7882 typ host"], address: "127.0.0.1", sessionId: 1)

    func room(_ users: [String]) -> CallRoom {
        var room = CallRoom(callId: "call-1", conversationId: "c1")
        for (index, user) in users.enumerated() {
            _ = room.join(userId: user, displayName: user, id: ParticipantID(rawValue: UInt64(index + 1)), connectionId: UInt64(index + 1),
                          subscribe: local)
        }
        return room
    }

    /// The parts of an accepted answer; fails the test if it was rejected.
    func accepted(_ outcome: SubscribeAnswerOutcome, sourceLocation: SourceLocation = #_sourceLocation)
        throws -> (answer: SubscribeAnswer, downTracks: [DownTrackConfig], effects: [CallEffect]) {
        guard case .accepted(let answer, let downTracks, let effects) = outcome else {
            Issue.record("the answer was rejected: \(outcome)", sourceLocation: sourceLocation)
            throw CallError.notInCall
        }
        return (answer, downTracks, effects)
    }

    func offers(_ effects: [CallEffect]) -> [(user: String, revision: Int, sdp: String)] {
        effects.compactMap {
            if case .subscribeOffer(let user, _, let sdp, let revision, _) = $0 { return (user, revision, sdp) }
            return nil
        }
    }

    @Test func joiningAnnouncesTheJoinerAndOffersNothingWhileNobodyPublishes() {
        var room = room(["ada"])
        let effects = room.join(userId: "bob", displayName: "Bob", id: ParticipantID(rawValue: 9), connectionId: 9,
                                subscribe: local)
        #expect(effects == [.joined(userId: "bob")])
    }

    @Test func publishingAnswersAndOffersTheTracksToTheOthers() throws {
        var room = room(["ada", "bob"])
        let (negotiation, effects) = try room.publish(userId: "ada", offer: try fixture("aiortc-publish.sdp"), sources: [:],
                                                      local: local)
        #expect(negotiation.media.count == 2)
        let published = effects.compactMap { effect -> CallTrack? in
            if case .published("ada", let track) = effect { return track }
            return nil
        }
        #expect(published.map(\.source) == [.microphone, .camera])
        let sent = offers(effects)
        try #require(sent.count == 1)
        #expect(sent[0].user == "bob" && sent[0].revision == 1)
        for track in published { #expect(sent[0].sdp.contains("a=msid:ada \(track.trackId)")) }
    }

    @Test func noNewOfferGoesOutBeforeTheLastIsAnswered() throws {
        var room = room(["ada", "bob", "cy"])
        let first = offers(try room.publish(userId: "ada", offer: try fixture("aiortc-publish.sdp"), sources: [:],
                                            local: local).effects)
        #expect(Set(first.map(\.user)) == ["bob", "cy"])
        // Cy publishes while Bob's first offer is unanswered: Bob gets nothing yet, Ada gets her first.
        let second = offers(try room.publish(userId: "cy", offer: try fixture("aiortc-publish.sdp"), sources: [:],
                                             local: local).effects)
        #expect(second.map(\.user) == ["ada"])
        // A stale revision is refused...
        #expect(throws: CallError.staleRevision(expected: 1, got: 2)) {
            _ = try room.subscribeAnswer(userId: "bob", sdp: try fixture("aiortc-subscribe-answer.sdp"), revision: 2)
        }
        // ...and answering revision 1 releases revision 2 with Cy's tracks.
        let bobOffer = try #require(first.first { $0.user == "bob" })
        let answer = aiortcStyleAnswer(to: bobOffer.sdp)
        let (_, downTracks, effects) = try accepted(try room.subscribeAnswer(userId: "bob", sdp: answer, revision: 1))
        #expect(downTracks.count == 2)
        let next = offers(effects)
        #expect(next.map(\.user) == ["bob"] && next[0].revision == 2)
    }

    @Test func anUnusableAnswerIsRefusedAndAFreshOfferFollowsSoTheSubscriberCanRecover() throws {
        var room = room(["ada", "bob"])
        let first = try #require(offers(try room.publish(userId: "ada", offer: try fixture("aiortc-publish.sdp"), sources: [:],
                                                         local: local).effects).first)
        #expect(first.user == "bob" && first.revision == 1)
        // An answer to revision 1 that does not parse, then one that breaks the offer's rules
        // (a section dropped): each is refused and the next revision offered at once.
        var latest = first.sdp
        for (bad, revision) in [("v=0\r\nnot sdp\r\n", 1), (String(aiortcStyleAnswer(to: first.sdp).split(separator: "m=video")[0]), 2)] {
            let outcome = try room.subscribeAnswer(userId: "bob", sdp: bad, revision: revision)
            guard case .rejected(let error, let effects) = outcome else {
                Issue.record("an unusable answer was taken: \(outcome)")
                return
            }
            guard case .sdp = error else {
                Issue.record("refused as \(error), not for its SDP")
                return
            }
            let fresh = offers(effects)
            try #require(fresh.count == 1)
            #expect(fresh[0].user == "bob" && fresh[0].revision == revision + 1)
            #expect(fresh[0].sdp.components(separatedBy: "a=msid:ada ").count == 3)  // both of Ada's tracks again
            latest = fresh[0].sdp
        }
        // The refused revisions are closed: answering one now is stale, and offers nothing.
        #expect(throws: CallError.staleRevision(expected: 3, got: 1)) {
            _ = try room.subscribeAnswer(userId: "bob", sdp: aiortcStyleAnswer(to: first.sdp), revision: 1)
        }
        // A good answer to the fresh offer is taken, and no further offer is needed.
        let (_, downTracks, effects) = try accepted(try room.subscribeAnswer(userId: "bob", sdp: aiortcStyleAnswer(to: latest),
                                                                             revision: 3))
        #expect(downTracks.count == 2)
        #expect(offers(effects).isEmpty)
    }

    @Test func leavingUnpublishesAndOffersTheTrackAsInactive() throws {
        var room = room(["ada", "bob"])
        let bobOffer = try #require(offers(try room.publish(userId: "ada", offer: try fixture("aiortc-publish.sdp"), sources: [:],
                                                            local: local).effects).first)
        _ = try accepted(try room.subscribeAnswer(userId: "bob", sdp: aiortcStyleAnswer(to: bobOffer.sdp), revision: 1))
        let effects = room.leave(userId: "ada")
        #expect(effects.first == .left(userId: "ada", participant: ParticipantID(rawValue: 1)))
        #expect(effects.filter { if case .unpublished = $0 { true } else { false } }.count == 2)
        let offer = try #require(offers(effects).first)
        #expect(offer.user == "bob" && offer.revision == 2)
        #expect(offer.sdp.components(separatedBy: "a=inactive").count == 3)
        #expect(!offer.sdp.contains("a=msid:ada"))
    }

    @Test func aMidNamedInTracksMustBeSent() throws {
        var room = room(["ada"])
        #expect(throws: CallError.invalidTracks("tracks names mid '7', which the offer does not send.")) {
            _ = try room.publish(userId: "ada", offer: try fixture("aiortc-publish.sdp"), sources: ["7": .screen],
                                 local: local)
        }
    }

    @Test func requestsFromOutsideTheCallAreRefused() throws {
        var room = room(["ada"])
        #expect(throws: CallError.notInCall) {
            _ = try room.publish(userId: "eve", offer: try fixture("aiortc-publish.sdp"), sources: [:], local: local)
        }
        #expect(throws: CallError.notInCall) { _ = try room.mute(userId: "eve", trackId: "x", muted: true) }
        #expect(throws: CallError.unknownTrack("x")) { _ = try room.mute(userId: "ada", trackId: "x", muted: true) }
    }

    @Test func mutingAnnouncesOnlyAChange() throws {
        var room = room(["ada", "bob"])
        let published = try room.publish(userId: "ada", offer: try fixture("aiortc-publish.sdp"), sources: [:],
                                          local: local)
        let track = try #require(published.effects.compactMap { if case .published(_, let t) = $0 { t } else { nil } }.first)
        #expect(try room.mute(userId: "ada", trackId: track.trackId, muted: true).count == 1)
        #expect(try room.mute(userId: "ada", trackId: track.trackId, muted: true).isEmpty)
    }

    @Test func aSecondJoinOfTheSameUserReplacesTheFirst() {
        var room = room(["ada", "bob"])
        let effects = room.join(userId: "bob", displayName: "Bob", id: ParticipantID(rawValue: 5), connectionId: 5,
                                subscribe: local)
        #expect(effects.prefix(2) == [.left(userId: "bob", participant: ParticipantID(rawValue: 2)), .joined(userId: "bob")])
        #expect(room.participants.count == 2)
    }

    /// What a browser answers: every offered section received, same mids, setup:active.
    func aiortcStyleAnswer(to offer: String) -> String {
        var lines: [String] = []
        for line in offer.split(separator: "\r\n", omittingEmptySubsequences: true).map(String.init) {
            if line.hasPrefix("a=candidate") || line.hasPrefix("a=end-of-candidates") || line == "a=ice-lite" || line.hasPrefix("a=ssrc") {
                continue
            }
            if line == "a=sendonly" { lines.append("a=recvonly"); continue }
            if line.hasPrefix("a=setup:") { lines.append("a=setup:active"); continue }
            if line.hasPrefix("a=ice-ufrag:") { lines.append("a=ice-ufrag:peer"); continue }
            if line.hasPrefix("a=ice-pwd:") { lines.append("a=ice-pwd:peerpasswordpeerpassword"); continue }
            if line.hasPrefix("a=msid:") { continue }
            lines.append(line)
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}
