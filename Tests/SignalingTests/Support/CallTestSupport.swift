import Foundation
import Testing
@testable import SFU
@testable import Signaling

extension MediaServer {
    /// The engine's participants and their open transports, read on the media thread.
    func live() async -> (participants: Int, transports: Int) {
        let engine = self.engine
        return await withCheckedContinuation { continuation in
            io.execute { _ in
                let transports = engine.participants.values.reduce(0) { count, participant in
                    count + [participant.publish, participant.subscribe].compactMap { $0 }.filter { !$0.closed }.count
                }
                continuation.resume(returning: (engine.participants.count, transports))
            }
        }
    }

    /// Waits until the engine holds `participants` participants with `transports` open transports.
    func expectLive(participants: Int, transports: Int, within timeout: Duration = .seconds(5),
                    sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let deadline = ContinuousClock.now + timeout
        var now = await live()
        while now != (participants, transports), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
            now = await live()
        }
        #expect(now == (participants, transports), "the engine holds \(now), not \((participants, transports))",
                sourceLocation: sourceLocation)
    }
}

/// A publish offer as aiortc sends it (audio and video), from the SFU tests' fixtures.
let publishOffer: String = {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("CodecTestSupport/Fixtures/aiortc-publish.sdp")
    return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
}()

/// Two members of a group in its call: Bob publishes audio and video, so the engine holds his
/// publish transport and Ada's subscribe transport (two participants, two transports).
struct CallScene {
    let harness: SignalingHarness
    let conversation: String
    let ada: (id: String, token: String, refresh: String)
    let bob: (id: String, token: String, refresh: String)
    let adaSocket: WSTestClient
    let bobSocket: WSTestClient

    static func make(_ h: SignalingHarness) async throws -> CallScene {
        let ada = try await h.signUp("Ada"), bob = try await h.signUp("Bob")
        let conversation = try await h.group(ada.token, members: [bob.id])
        let adaSocket = try await h.client(ada.token), bobSocket = try await h.client(bob.token)
        for socket in [adaSocket, bobSocket] {
            socket.send("call.join", id: "join", ["conversationId": conversation])
            _ = try await socket.next("call.config", id: "join")
            _ = try await socket.next("call.participants")
        }
        bobSocket.send("call.publish", id: "pub", ["conversationId": conversation, "sdp": publishOffer])
        _ = try await bobSocket.next("call.publish.answer", id: "pub")
        let offer = try await adaSocket.next("call.subscribe.offer")
        #expect(offer.data["revision"] as? Int == 1)
        try await #require(h.media).expectLive(participants: 2, transports: 2)
        return CallScene(harness: h, conversation: conversation, ada: ada, bob: bob, adaSocket: adaSocket, bobSocket: bobSocket)
    }

    /// What Ada must see when Bob's part ends: him leave, his two tracks go, and `call.state`
    /// with only her; and the engine lets go of his transport.
    func expectBobGoneForAda() async throws {
        let left = try await adaSocket.next("call.participant.left")
        #expect(left.data["userId"] as? String == bob.id && left.data["conversationId"] as? String == conversation)
        for _ in 0..<2 {
            let gone = try await adaSocket.next("call.track.unpublished")
            #expect(gone.data["userId"] as? String == bob.id)
        }
        let state = try await adaSocket.next("call.state")
        #expect(state.data["active"] as? Bool == true)
        #expect(state.data["participants"] as? [String] == [ada.id])
        try await #require(harness.media).expectLive(participants: 1, transports: 1)
    }

    /// Bob's `call.left` for this call, with `reason`.
    func expectBobLeft(_ reason: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let frame = try await bobSocket.next("call.left")
        #expect(frame.data["conversationId"] as? String == conversation, sourceLocation: sourceLocation)
        #expect(frame.data["reason"] as? String == reason, sourceLocation: sourceLocation)
    }

    func close() async {
        await adaSocket.close()
        await bobSocket.close()
    }
}
