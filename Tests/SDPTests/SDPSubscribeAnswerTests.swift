import DTLS
import ICE
import CodecTestSupport
import Testing
@testable import SDP

@Suite struct SDPSubscribeAnswerTests {
    let offered = SDPSamples.tracks

    @Test func chromiumAnswerAcceptsActiveTracksWithRTXAndREMB() throws {
        let answer = try SDPNegotiator.parseSubscribeAnswer(try fixture("chromium-subscribe-answer.sdp"), offered: offered)
        #expect(answer.acceptedMids == ["0", "1", "3"])
        #expect(answer.rtxAcceptedMids == ["1", "3"])
        #expect(answer.remb)
        let remote = try #require(answer.remote)
        #expect(!remote.credentials.ufrag.isEmpty && !remote.credentials.password.isEmpty)
        #expect(remote.fingerprints.count == 1 && remote.fingerprints[0].algorithm == .sha256)
    }

    @Test func chromiumAnswerKeepsTheOfferedExtensionIds() throws {
        let answer = try SDPNegotiator.parseSubscribeAnswer(try fixture("chromium-subscribe-answer.sdp"), offered: offered)
        var audio = HeaderExtensionMap()
        audio.audioLevel = 1
        audio.absSendTime = 2
        var video = HeaderExtensionMap()
        video.absSendTime = 2
        #expect(answer.extensions == ["0": audio, "1": video, "3": video])
    }

    /// aiortc answers the gone track's port-0 section with port 9 (it does not reject it); the
    /// track is still not accepted, as Parley offered it inactive.
    @Test func aiortcAnswerAcceptsActiveTracks() throws {
        let answer = try SDPNegotiator.parseSubscribeAnswer(try fixture("aiortc-subscribe-answer.sdp"), offered: offered)
        #expect(answer.acceptedMids == ["0", "1", "3"])
        #expect(answer.rtxAcceptedMids == ["1", "3"])
        #expect(answer.remb)
        #expect(answer.remote?.fingerprints.count == 3)
        #expect(answer.extensions["0"]?.audioLevel == 1)
        #expect(answer.extensions["0"]?.absSendTime == 0)
    }

    @Test func answerThatIsNotDTLSClientIsRefused() throws {
        let text = try fixture("chromium-subscribe-answer.sdp").replacingOccurrences("a=setup:active", with: "a=setup:passive")
        #expect(sdpError { () throws(SDPError) in try SDPNegotiator.parseSubscribeAnswer(text, offered: offered) } == .unsupportedSetup(found: "passive"))
    }

    @Test func answerWithAnotherNumberOfSectionsIsRefused() throws {
        let text = try fixture("chromium-subscribe-answer.sdp")
        let error = sdpError { () throws(SDPError) in try SDPNegotiator.parseSubscribeAnswer(text, offered: Array(offered.prefix(2))) }
        #expect(error == .answerSectionCount(offered: 2, answered: 4))
    }

    @Test func answerWithAnotherMidIsRefused() throws {
        let text = try fixture("chromium-subscribe-answer.sdp").replacingOccurrences("a=mid:3", with: "a=mid:7")
        let error = sdpError { () throws(SDPError) in try SDPNegotiator.parseSubscribeAnswer(text, offered: offered) }
        #expect(error == .answerMidMismatch(index: 3, offered: "3", answered: "7"))
    }

    @Test func answerMovingAnExtensionIdIsRefused() throws {
        let text = try fixture("chromium-subscribe-answer.sdp")
            .replacingOccurrences("a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level", with: "a=extmap:5 urn:ietf:params:rtp-hdrext:ssrc-audio-level")
        let error = sdpError { () throws(SDPError) in try SDPNegotiator.parseSubscribeAnswer(text, offered: offered) }
        #expect(error == .answerExtensionIdChanged(mid: "0", uri: HeaderExtension.audioLevel.rawValue, offered: 1, answered: 5))
    }

    @Test func sectionRejectedByTheAnswerIsNotAccepted() throws {
        let text = try fixture("chromium-subscribe-answer.sdp").replacingOccurrences("m=video 9 UDP/TLS/RTP/SAVPF 102 103", with: "m=video 0 UDP/TLS/RTP/SAVPF 102 103")
        let answer = try SDPNegotiator.parseSubscribeAnswer(text, offered: offered)
        #expect(answer.acceptedMids == ["0", "1"])
    }
}

extension String {
    func replacingOccurrences(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
