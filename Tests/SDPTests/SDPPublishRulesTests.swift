import DTLS
import ICE
import CodecTestSupport
import Testing
@testable import SDP

@Suite struct SDPPublishRulesTests {
    func negotiate(_ offer: String) throws(SDPError) -> PublishNegotiation {
        try SDPNegotiator.negotiatePublish(offer: offer, local: SDPSamples.local)
    }

    func error(_ offer: String) -> SDPError? {
        sdpError { () throws(SDPError) in try negotiate(offer) }
    }

    @Test func offerTakingTheDTLSServerRoleIsRefused() {
        #expect(error(handOffer().replacingOccurrences("a=setup:actpass", with: "a=setup:passive")) == .unsupportedSetup(found: "passive"))
    }

    @Test func activeOfferIsAnsweredPassive() throws {
        let answer = try negotiate(handOffer().replacingOccurrences("a=setup:actpass", with: "a=setup:active")).answer
        #expect(sectionLines(answer, mid: "0").contains("a=setup:passive"))
    }

    @Test func missingICECredentialsAreRefused() {
        #expect(error(handOffer().replacingOccurrences("a=ice-pwd:0123456789abcdefghijklmn\r\n", with: "")) == .missingICECredentials(mid: "0"))
    }

    @Test func sessionLevelICECredentialsAndFingerprintAreUsed() throws {
        let media = handOffer()
        let session = media.replacingOccurrences("a=group:BUNDLE 0\r\n", with: "a=group:BUNDLE 0\r\na=ice-ufrag:sess\r\na=ice-pwd:sessionsessionsession12\r\n")
            .replacingOccurrences("a=ice-ufrag:abcd\r\n", with: "").replacingOccurrences("a=ice-pwd:0123456789abcdefghijklmn\r\n", with: "")
        let result = try negotiate(session)
        #expect(result.remote.credentials == ICECredentials(ufrag: "sess", password: "sessionsessionsession12"))
    }

    @Test func missingFingerprintIsRefused() {
        let offer = handOffer().split(separator: "\r\n").filter { !$0.hasPrefix("a=fingerprint") }.joined(separator: "\r\n") + "\r\n"
        #expect(error(offer) == .missingFingerprint)
    }

    @Test func malformedFingerprintIsRefused() {
        let offer = handOffer().replacingOccurrences("a=fingerprint:sha-256 04:25", with: "a=fingerprint:sha-256 ZZ:25")
        #expect(error(offer) == .missingFingerprint)
    }

    @Test func sectionWithoutRTCPMuxIsRefused() {
        #expect(error(handOffer().replacingOccurrences("a=rtcp-mux\r\n", with: "")) == .rtcpMuxRequired(mid: "0"))
    }

    @Test func singleSectionWithoutBundleIsAccepted() throws {
        let result = try negotiate(handOffer(bundle: false))
        #expect(result.media.count == 1)
    }

    @Test func severalSectionsWithoutBundleAreRefused() {
        #expect(error(handOffer(audio: true, bundle: false)) == .bundleRequired(mid: "1"))
    }

    @Test func dataChannelSectionIsRejectedAndLeftOutOfBundle() throws {
        let offer = handOffer().replacingOccurrences("a=group:BUNDLE 0", with: "a=group:BUNDLE 0 2")
            + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\na=sctp-port:5000\r\n"
        let result = try negotiate(offer)
        let answer = try SessionDescription(parsing: result.answer)
        #expect(answer.bundleMids == ["0"])
        #expect(answer.media[1].mLine == "m=application 0 UDP/DTLS/SCTP webrtc-datachannel")
        #expect(answer.media[1].mid == "2")
        #expect(result.media.map(\.mid) == ["0"])
    }

    @Test func recvonlySectionIsAnsweredInactiveWithTheFirstCodecAndNotReported() throws {
        let offer = handOffer(videoFormats: "98 96", videoCodecs: ["a=rtpmap:98 VP9/90000", "a=rtpmap:96 VP8/90000"], audio: true)
            .replacingOccurrences("a=mid:0\r\na=sendonly", with: "a=mid:0\r\na=recvonly")
        let result = try negotiate(offer)
        #expect(result.media.map(\.mid) == ["1"])
        let video = sectionLines(result.answer, mid: "0")
        #expect(video.first == "m=video 9 UDP/TLS/RTP/SAVPF 98")
        #expect(video.contains("a=inactive"))
        #expect(video.contains("a=rtpmap:98 VP9/90000"))
        #expect(try SessionDescription(parsing: result.answer).bundleMids == ["0", "1"])
    }

    @Test func stoppedSectionWithPortZeroIsRejected() throws {
        let offer = handOffer(audio: true).replacingOccurrences("m=video 9 ", with: "m=video 0 ")
        let result = try negotiate(offer)
        #expect(result.media.map(\.mid) == ["1"])
        #expect(sectionLines(result.answer, mid: "0").first == "m=video 0 UDP/TLS/RTP/SAVPF 96 97")
    }

    @Test func sectionsWithoutMidAreRefused() {
        #expect(error(handOffer().replacingOccurrences("a=mid:0\r\n", with: "")) == .missingMid(index: 0))
    }

    @Test func duplicateMidsAreRefused() {
        #expect(error(handOffer(audio: true).replacingOccurrences("a=mid:1", with: "a=mid:0")) == .duplicateMid("0"))
    }

    @Test func offerWithLineFeedsOnlyIsAccepted() throws {
        let result = try negotiate(try fixture("chromium-publish.sdp").replacingOccurrences("\r\n", with: "\n"))
        #expect(result.media.count == 2)
    }

    @Test func unknownExtensionsAreIgnoredAndKnownOnesKeepTheOfferIds() throws {
        let offer = handOffer(media: [
            "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset", "a=extmap:6 urn:ietf:params:rtp-hdrext:sdes:mid",
            "a=extmap:200 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
        ])
        let result = try negotiate(offer)
        #expect(result.media[0].extensions.mid == 6 && result.media[0].extensions.transportWideCC == 200)
        let video = sectionLines(result.answer, mid: "0").filter { $0.hasPrefix("a=extmap") }
        #expect(video == ["a=extmap:6 urn:ietf:params:rtp-hdrext:sdes:mid",
                          "a=extmap:200 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"])
    }

    @Test func pausedSimulcastRidsAreNotReportedButAnswered() throws {
        let offer = handOffer(media: ["a=rid:h send", "a=rid:m send", "a=rid:l send", "a=simulcast:send ~h;m;l"])
        let result = try negotiate(offer)
        #expect(result.media[0].simulcastRids == ["m", "l"])
        #expect(sectionLines(result.answer, mid: "0").contains("a=simulcast:recv ~h;m;l"))
    }

    @Test func lowFirstSimulcastOrderIsKept() throws {
        let offer = handOffer(media: ["a=rid:l send", "a=rid:m send", "a=rid:h send", "a=simulcast:send l;m;h"])
        #expect(try negotiate(offer).media[0].simulcastRids == ["l", "m", "h"])
    }

    /// Firefox before 71 wrote draft-ietf-mmusic-sdp-simulcast-03 syntax.
    @Test func olderFirefoxSimulcastSyntaxIsAccepted() throws {
        let offer = handOffer(media: ["a=rid:h send", "a=rid:m send", "a=rid:l send", "a=simulcast: send rid=h;m;l"])
        let result = try negotiate(offer)
        #expect(result.media[0].simulcastRids == ["h", "m", "l"])
        #expect(sectionLines(result.answer, mid: "0").contains("a=simulcast:recv h;m;l"))
    }

    @Test func simulcastRidWithoutRidLineIsRefused() {
        let offer = handOffer(media: ["a=rid:h send", "a=simulcast:send h;m"])
        guard case .malformedAttribute(let mid, _, _) = error(offer) else {
            Issue.record("expected malformedAttribute")
            return
        }
        #expect(mid == "0")
    }

    @Test func answerSessionPartIsJsepShaped() throws {
        let lines = sdpLines(try negotiate(handOffer()).answer)
        #expect(Array(lines.prefix(5)) == ["v=0", "o=- 4611686018427387904 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=ice-lite"])
        #expect(lines.contains("a=group:BUNDLE 0"))
    }

    @Test func rtcpRsizeIsAnsweredOnlyWhenOffered() throws {
        #expect(!sectionLines(try negotiate(handOffer()).answer, mid: "0").contains("a=rtcp-rsize"))
        #expect(sectionLines(try negotiate(handOffer(media: ["a=rtcp-rsize"])).answer, mid: "0").contains("a=rtcp-rsize"))
    }
}
