import CodecTestSupport
import Foundation
import ICE
import Testing
@testable import SFU
@testable import SDP

/// What one participant can make a call hold: tracks per publish offer, encodings per track,
/// and the subscribe offer's sections over a long call.
@Suite struct CallRoomBoundsTests {
    let helper = CallRoomTests()

    /// A bundled publish offer of `sections` VP8 sections, each simulcast with `encodings` rids
    /// (one encoding: no simulcast).
    static func publishOffer(sections: Int, encodings: Int) -> String {
        var lines = ["v=0", "o=- 1 2 IN IP4 127.0.0.1", "s=-", "t=0 0",
                     "a=group:BUNDLE " + (0..<sections).map(String.init).joined(separator: " "),
                     "a=ice-ufrag:fl00", "a=ice-pwd:floodfloodfloodfloodfl",
                     "a=fingerprint:sha-256 " + Array(repeating: "AB", count: 32).joined(separator: ":"), "a=setup:actpass"]
        for index in 0..<sections {
            lines += ["m=video 9 UDP/TLS/RTP/SAVPF 96 97", "c=IN IP4 0.0.0.0", "a=mid:\(index)", "a=sendonly", "a=rtcp-mux",
                      "a=rtpmap:96 VP8/90000", "a=rtcp-fb:96 nack", "a=rtpmap:97 rtx/90000", "a=fmtp:97 apt=96",
                      "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid", "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"]
            if encodings > 1 {
                let rids = (0..<encodings).map { "r\($0)" }
                lines += rids.map { "a=rid:\($0) send" }
                lines.append("a=simulcast:send " + rids.joined(separator: ";"))
            }
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    @Test func anOfferWithMoreTracksThanTheLimitIsRefusedWhole() throws {
        var room = helper.room(["ada", "bob"])
        #expect(throws: CallError.sdp(.tooManyTracks(found: 5, limit: 4))) {
            _ = try room.publish(userId: "ada", offer: Self.publishOffer(sections: 5, encodings: 1), sources: [:],
                                 local: helper.local)
        }
        // Refused whole: nothing published, nobody offered anything.
        #expect(room.participant("ada")?.tracks.isEmpty == true)
        #expect(room.participant("ada")?.publish == nil)
        // The attack's shape: 50 sections of 16 encodings.
        #expect(throws: CallError.sdp(.tooManyTracks(found: 50, limit: 4))) {
            _ = try room.publish(userId: "ada", offer: Self.publishOffer(sections: 50, encodings: 16), sources: [:],
                                 local: helper.local)
        }
        // At the limit it is answered; a raised limit (CALL_MAX_TRACKS) lets five through.
        let (negotiation, _) = try room.publish(userId: "ada", offer: Self.publishOffer(sections: 4, encodings: 3), sources: [:],
                                                local: helper.local)
        #expect(negotiation.media.count == 4)
        let (raised, _) = try room.publish(userId: "bob", offer: Self.publishOffer(sections: 5, encodings: 1), sources: [:],
                                           local: helper.local, maxTracks: 5)
        #expect(raised.media.count == 5)
    }

    @Test func aVideoSectionWithMoreThanThreeEncodingsIsRefused() throws {
        var room = helper.room(["ada"])
        #expect(throws: CallError.sdp(.tooManySimulcastEncodings(mid: "0", found: 4, limit: 3))) {
            _ = try room.publish(userId: "ada", offer: Self.publishOffer(sections: 1, encodings: 4), sources: [:],
                                 local: helper.local)
        }
        let error = SDPError.tooManySimulcastEncodings(mid: "0", found: 4, limit: 3)
        #expect(error.description.contains("at most 3"))
        #expect(CallError.sdp(error).description.contains("at most 3"))
    }

    /// Bob stays; 300 others come, publish audio and video, and go, one after another. Bob's
    /// subscribe offer reuses the sections of gone tracks, so it never has more than the two
    /// sections of one guest's tracks; without reuse it would pass `SDPLimits.maxMediaSections`
    /// (256) after 128 guests, and Bob's answers would stop parsing.
    @Test func subscribeSectionsOfGoneTracksAreReusedOverALongCall() throws {
        var room = helper.room(["bob"])
        var revision = 0
        var most = 0
        var mids = Set<String>()

        func answerBob(_ effects: [CallEffect]) throws {
            for offer in helper.offers(effects) where offer.user == "bob" {
                revision = offer.revision
                let sections = offer.sdp.components(separatedBy: "\r\nm=").count - 1
                most = max(most, sections)
                for line in offer.sdp.split(separator: "\r\n") where line.hasPrefix("a=mid:") { mids.insert(String(line.dropFirst(6))) }
                let (_, downTracks, next) = try helper.accepted(
                    try room.subscribeAnswer(userId: "bob", sdp: helper.aiortcStyleAnswer(to: offer.sdp), revision: offer.revision))
                #expect(downTracks.count <= 2)
                try answerBob(next)
            }
        }

        for cycle in 0..<300 {
            let user = "guest\(cycle)"
            try answerBob(room.join(userId: user, displayName: user, id: ParticipantID(rawValue: UInt64(cycle + 10)),
                                    connectionId: UInt64(cycle + 10), subscribe: helper.local))
            try answerBob(try room.publish(userId: user, offer: try fixture("aiortc-publish.sdp"), sources: [:],
                                           local: helper.local).effects)
            try answerBob(room.leave(userId: user))
        }
        #expect(revision >= 600)
        #expect(most == 2, "Bob's offer grew to \(most) sections")
        #expect(mids.count == 2)
        let bob = try #require(room.participant("bob"))
        #expect(bob.subscribe.slots.count == 2)
    }
}
