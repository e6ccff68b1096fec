import ChatAPI
import DTLS
import ICE
import SDP
import SFU
import Testing
@testable import Signaling

/// `call.publish`, `call.subscribe.answer` and `call.quality` on `CallSignaling` alone: the
/// frames that answer them, and what the media plane is asked, with the peer's ICE credentials
/// and fingerprints typed as they came in the SDP. A refused frame asks the media plane nothing.
@Suite struct CallNegotiationTests {
    let sources = [ClientFrame.PublishedSource(mid: "0", source: "microphone"), ClientFrame.PublishedSource(mid: "1", source: "camera")]

    /// The peer's transport as the offer's first section gives it, read here line by line
    /// rather than through the SDP module.
    func transport(of sdp: String) throws -> RemoteTransport {
        let firstSection = sdp.components(separatedBy: "\r\nm=").prefix(2).joined()
        var ufrag = "", password = ""
        var fingerprints: [DTLSFingerprint] = []
        for line in firstSection.split(separator: "\r\n") {
            if line.hasPrefix("a=ice-ufrag:") { ufrag = String(line.dropFirst(12)) }
            if line.hasPrefix("a=ice-pwd:") { password = String(line.dropFirst(10)) }
            if line.hasPrefix("a=fingerprint:") { fingerprints.append(try DTLSFingerprint(parsing: line.dropFirst(14))) }
        }
        return RemoteTransport(credentials: ICECredentials(ufrag: ufrag, password: password), fingerprints: fingerprints)
    }

    /// A client's answer to Parley's subscribe offer: receives everything, takes the DTLS client
    /// role, and has ICE credentials and a certificate of its own.
    func answer(to offer: String) -> String {
        var lines: [String] = []
        for line in offer.split(separator: "\r\n").map(String.init) {
            if ["a=candidate", "a=end-of-candidates", "a=ice-lite", "a=ssrc", "a=msid:"].contains(where: line.hasPrefix) { continue }
            if line == "a=sendonly" { lines.append("a=recvonly") }
            else if line.hasPrefix("a=setup:") { lines.append("a=setup:active") }
            else if line.hasPrefix("a=ice-ufrag:") { lines.append("a=ice-ufrag:subscriber") }
            else if line.hasPrefix("a=ice-pwd:") { lines.append("a=ice-pwd:subscriberpasswordsubscriber") }
            else if line.hasPrefix("a=fingerprint:") { lines.append("a=fingerprint:sha-256 " + Array(repeating: "C3", count: 32).joined(separator: ":")) }
            else { lines.append(line) }
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// Ada and Bob in the call; Bob publishes audio and video; what that sent is taken.
    func bobPublishes(_ f: CallSignalingFixture) async throws -> (ada: Connection, bob: Connection, offer: String) {
        let adaSocket = f.connect(f.ada), bobSocket = f.connect(f.bob)
        try await f.calls.join(f.conversation, id: nil, caller: f.ada, connection: adaSocket)
        try await f.calls.join(f.conversation, id: nil, caller: f.bob, connection: bobSocket)
        f.clear(adaSocket, bobSocket)
        try await f.calls.publish(f.conversation, sdp: publishOffer, tracks: sources, id: "p1", caller: f.bob, connection: bobSocket)
        f.clear(bobSocket)
        let offer = try #require(f.outbox.take(adaSocket).last { $0.type == "call.subscribe.offer" }?.data["sdp"] as? String)
        return (adaSocket, bobSocket, offer)
    }

    @Test("publish: the answer goes back with the frame's id; the media plane opens the publish transport with the peer's typed transport")
    func publish() async throws {
        try await withCallSignaling { f in
            let adaSocket = f.connect(f.ada), bobSocket = f.connect(f.bob)
            try await f.calls.join(f.conversation, id: nil, caller: f.ada, connection: adaSocket)
            try await f.calls.join(f.conversation, id: nil, caller: f.bob, connection: bobSocket)
            f.clear(adaSocket, bobSocket)
            let ada = try f.participant(f.ada), bob = try f.participant(f.bob)

            try await f.calls.publish(f.conversation, sdp: publishOffer, tracks: sources, id: "p1", caller: f.bob, connection: bobSocket)
            let answer = try #require(f.outbox.take(bobSocket).first)
            #expect(answer.type == "call.publish.answer" && answer.id == "p1")
            let sdp = try #require(answer.data["sdp"] as? String)
            #expect(sdp.contains("a=fingerprint:\(RecordingMediaPlane.fingerprint.sdpValue)"), "Parley's own certificate is in the answer")

            let requests = f.media.take()
            #expect(requests.count == 3)
            guard case .open(bob, .publish, let credentials, let remote)? = requests.first else {
                Issue.record("the first request opens Bob's publish transport, not \(String(describing: requests.first))")
                return
            }
            #expect(remote == (try transport(of: publishOffer)))
            #expect(sdp.contains("a=ice-ufrag:\(credentials.ufrag)") && sdp.contains("a=ice-pwd:\(credentials.password)"),
                    "the transport opens with the credentials the answer gave")
            #expect(requests.dropFirst().first == .publishedTracks(bob, count: 2))
            guard case .open(ada, .subscribe, _, nil)? = requests.last else {
                Issue.record("Ada's subscribe transport opens for the offer of Bob's tracks, not \(String(describing: requests.last))")
                return
            }
            let adaFrames = f.outbox.take(adaSocket)
            #expect(adaFrames.map(\.type) == ["call.track.published", "call.track.published", "call.subscribe.offer"])
            #expect(adaFrames.last?.data["revision"] as? Int == 1)

            // The same offer again renegotiates: the transport is there, only the peer's side is new.
            try await f.calls.publish(f.conversation, sdp: publishOffer, tracks: sources, id: "p2", caller: f.bob, connection: bobSocket)
            #expect(f.media.take().first == .updateRemote(bob, .publish, try transport(of: publishOffer)))
        }
    }

    @Test("a publish that cannot be served is refused and asks the media plane nothing")
    func publishRefused() async throws {
        try await withCallSignaling { f in
            let bobSocket = f.connect(f.bob)
            await #expect(throws: CallError.notInCall, "before call.join") {
                try await f.calls.publish(f.conversation, sdp: publishOffer, tracks: sources, id: "p", caller: f.bob, connection: bobSocket)
            }
            try await f.calls.join(f.conversation, id: nil, caller: f.bob, connection: bobSocket)
            f.clear(bobSocket)
            let webcam = await #expect(throws: APIError.self) {
                try await f.calls.publish(f.conversation, sdp: publishOffer, tracks: [.init(mid: "0", source: "webcam")], id: "p",
                                          caller: f.bob, connection: bobSocket)
            }
            #expect(webcam?.code == "invalid_field" && webcam?.field == "tracks")
            let twice = await #expect(throws: APIError.self) {
                try await f.calls.publish(f.conversation, sdp: publishOffer, tracks: [.init(mid: "0", source: "microphone"),
                                                                                      .init(mid: "0", source: "camera")],
                                          id: "p", caller: f.bob, connection: bobSocket)
            }
            #expect(twice?.code == "invalid_field")
            let garbage = await #expect(throws: CallError.self) {
                try await f.calls.publish(f.conversation, sdp: "v=0\r\nnot sdp", tracks: [], id: "p", caller: f.bob, connection: bobSocket)
            }
            #expect(garbage?.apiError.field == "sdp")
            let stranger = await #expect(throws: APIError.self) {
                try await f.calls.publish(f.conversation, sdp: publishOffer, tracks: sources, id: "p", caller: f.eve, connection: f.connect(f.eve))
            }
            #expect(stranger?.code == "not_found")
            #expect(f.media.take().isEmpty && f.outbox.take(bobSocket).isEmpty && f.outbox.takeAnnouncements().isEmpty)
        }
    }

    @Test("a subscribe answer hands the media plane the subscriber's transport and its down tracks")
    func subscribeAnswer() async throws {
        try await withCallSignaling { f in
            let (adaSocket, _, offer) = try await bobPublishes(f)
            let ada = try f.participant(f.ada)
            try await f.calls.subscribeAnswer(f.conversation, sdp: answer(to: offer), revision: 1, caller: f.ada)
            let subscriber = RemoteTransport(
                credentials: ICECredentials(ufrag: "subscriber", password: "subscriberpasswordsubscriber"),
                fingerprints: [try DTLSFingerprint(parsing: "sha-256 " + Array(repeating: "C3", count: 32).joined(separator: ":"))])
            #expect(f.media.take() == [.updateRemote(ada, .subscribe, subscriber), .downTracks(ada, count: 2)])
            #expect(f.outbox.take(adaSocket).isEmpty)
        }
    }

    @Test("a stale or unusable subscribe answer is refused; an unusable one after a fresh offer")
    func subscribeAnswerRefused() async throws {
        try await withCallSignaling { f in
            let (adaSocket, _, offer) = try await bobPublishes(f)
            await #expect(throws: CallError.staleRevision(expected: 1, got: 7)) {
                try await f.calls.subscribeAnswer(f.conversation, sdp: answer(to: offer), revision: 7, caller: f.ada)
            }
            #expect(f.outbox.take(adaSocket).isEmpty)
            let unusable = await #expect(throws: CallError.self) {
                try await f.calls.subscribeAnswer(f.conversation, sdp: "v=0\r\n", revision: 1, caller: f.ada)
            }
            #expect(unusable?.apiError.field == "sdp")
            let reoffer = f.outbox.take(adaSocket)
            #expect(reoffer.map(\.type) == ["call.subscribe.offer"])
            #expect(reoffer.first?.data["revision"] as? Int == 2)
            #expect(!f.media.take().contains { if case .downTracks = $0 { true } else { false } })
            await #expect(throws: CallError.notInCall, "Cy is a member, but not in the call") {
                try await f.calls.subscribeAnswer(f.conversation, sdp: answer(to: offer), revision: 1, caller: f.cy)
            }
        }
    }

    @Test("a quality wish reaches the media plane for a track the caller receives, and nothing else does")
    func quality() async throws {
        try await withCallSignaling { f in
            let (_, _, offer) = try await bobPublishes(f)
            try await f.calls.subscribeAnswer(f.conversation, sdp: answer(to: offer), revision: 1, caller: f.ada)
            _ = f.media.take()
            let ada = try f.participant(f.ada)
            let video = try #require(f.calls.directory.lookup.state(f.conversation).participants
                .first { $0.userId == f.bob.userId }?.tracks.first { $0.kind == "video" }?.trackId)
            try await f.calls.quality(f.conversation, trackId: video, quality: "low", caller: f.ada)
            #expect(f.media.take() == [.quality(ada, .low)])

            let ultra = await #expect(throws: APIError.self) {
                try await f.calls.quality(f.conversation, trackId: video, quality: "ultra", caller: f.ada)
            }
            #expect(ultra?.field == "quality")
            await #expect(throws: CallError.unknownTrack("nope")) {
                try await f.calls.quality(f.conversation, trackId: "nope", quality: "low", caller: f.ada)
            }
            #expect(f.media.take().isEmpty)
        }
    }
}
