import ICE
import CodecTestSupport
import DTLS
import Testing
@testable import SDP

/// What negotiating each captured (or, for Safari, hand-written) publish offer must give.
struct PublishFixture: Sendable, CustomTestStringConvertible {
    var file: String
    var opus: UInt8
    var vp8: UInt8
    var vp8RTX: UInt8
    var audioExtensions: [HeaderExtension: UInt8]
    var videoExtensions: [HeaderExtension: UInt8]
    var simulcast: Bool
    var testDescription: String { file }

    static let all: [PublishFixture] = [
        PublishFixture(
            file: "chromium-publish.sdp", opus: 111, vp8: 96, vp8RTX: 97,
            audioExtensions: [.audioLevel: 1, .absSendTime: 2, .transportWideCC: 3, .mid: 4],
            videoExtensions: [.absSendTime: 2, .transportWideCC: 3, .mid: 4, .rid: 10, .repairedRid: 11], simulcast: false),
        PublishFixture(
            file: "chromium-publish-simulcast.sdp", opus: 111, vp8: 96, vp8RTX: 97,
            audioExtensions: [.audioLevel: 1, .absSendTime: 2, .transportWideCC: 3, .mid: 4],
            videoExtensions: [.absSendTime: 2, .transportWideCC: 3, .mid: 4, .rid: 10, .repairedRid: 11], simulcast: true),
        PublishFixture(
            file: "firefox-publish.sdp", opus: 109, vp8: 120, vp8RTX: 124,
            audioExtensions: [.audioLevel: 1, .mid: 3, .transportWideCC: 7],
            videoExtensions: [.mid: 3, .absSendTime: 4, .transportWideCC: 7], simulcast: false),
        PublishFixture(
            file: "firefox-publish-simulcast.sdp", opus: 109, vp8: 120, vp8RTX: 124,
            audioExtensions: [.audioLevel: 1, .mid: 3, .transportWideCC: 7],
            videoExtensions: [.mid: 3, .absSendTime: 4, .transportWideCC: 7, .rid: 9, .repairedRid: 10], simulcast: true),
        PublishFixture(
            file: "aiortc-publish.sdp", opus: 96, vp8: 97, vp8RTX: 98,
            audioExtensions: [.mid: 1, .audioLevel: 2], videoExtensions: [.mid: 1, .absSendTime: 3], simulcast: false),
        // Hand-written: exercises H.264 listed first (High and constrained baseline, packetization
        // modes 1 and 0), H.265 and mDNS candidates; Parley's preference still picks VP8.
        PublishFixture(
            file: "safari-publish.sdp", opus: 111, vp8: 106, vp8RTX: 107,
            audioExtensions: [.audioLevel: 1, .absSendTime: 2, .transportWideCC: 3, .mid: 4],
            videoExtensions: [.absSendTime: 2, .transportWideCC: 3, .mid: 4, .rid: 10, .repairedRid: 11], simulcast: false),
    ]
}

@Suite struct SDPPublishFixtureTests {
    func negotiate(_ f: PublishFixture) throws -> PublishNegotiation {
        try SDPNegotiator.negotiatePublish(offer: try fixture(f.file), local: SDPSamples.local)
    }

    @Test(arguments: PublishFixture.all)
    func choosesOpusAndVP8WithTheOffersPayloadTypes(_ f: PublishFixture) throws {
        let result = try negotiate(f)
        #expect(result.media.map(\.kind) == [.audio, .video])
        #expect(result.media.map(\.mid) == ["0", "1"])
        let audio = result.media[0].codec
        #expect(audio.name == .opus && audio.payloadType == f.opus && audio.clockRate == 48000 && audio.channels == 2)
        let video = result.media[1].codec
        #expect(video.name == .vp8 && video.payloadType == f.vp8 && video.clockRate == 90000)
        #expect(video.rtxPayloadType == f.vp8RTX)
    }

    @Test(arguments: PublishFixture.all)
    func reportsTheOffersHeaderExtensionIds(_ f: PublishFixture) throws {
        let result = try negotiate(f)
        for (media, expected) in zip(result.media, [f.audioExtensions, f.videoExtensions]) {
            for e in HeaderExtension.allCases {
                #expect(media.extensions[e] == expected[e] ?? 0, "\(media.kind) \(e)")
            }
        }
    }

    @Test(arguments: PublishFixture.all)
    func reportsSimulcastRidsOrPrimaryAndRTXSSRC(_ f: PublishFixture) throws {
        let video = try negotiate(f).media[1]
        if f.simulcast {
            #expect(video.simulcastRids == ["h", "m", "l"])
            #expect(video.ssrc == nil)
        } else {
            #expect(video.simulcastRids == [])
            #expect(video.ssrc != nil && video.rtxSSRC != nil && video.ssrc != video.rtxSSRC)
        }
        #expect(video.trackId != nil && video.streamId != nil)
    }

    @Test(arguments: PublishFixture.all)
    func answerParsesBackAsICELitePassiveBundledRecvonly(_ f: PublishFixture) throws {
        let result = try negotiate(f)
        #expect(result.answer.hasSuffix("\r\n"))
        let answer = try SessionDescription(parsing: result.answer)
        #expect(answer.attributes.has("ice-lite"))
        #expect(answer.bundleMids == ["0", "1"])
        #expect(answer.media.map(\.mid) == ["0", "1"])
        for section in answer.media {
            #expect(section.port == 9)
            #expect(section.attributes.value(of: "setup") == "passive")
            #expect(section.attributes.has("recvonly"))
            #expect(section.attributes.has("rtcp-mux"))
            #expect(section.attributes.values(of: "candidate").count == 2)
            #expect(section.attributes.has("end-of-candidates"))
            #expect(section.attributes.value(of: "ice-ufrag") == "prly")
            #expect(section.attributes.value(of: "fingerprint") == SDPSamples.local.fingerprint.sdpValue)
        }
        #expect(answer.media[0].formats == [String(f.opus)])
        #expect(answer.media[1].formats == [String(f.vp8), String(f.vp8RTX)])
    }

    @Test(arguments: PublishFixture.all)
    func reportsTheRemoteTransportParameters(_ f: PublishFixture) throws {
        let result = try negotiate(f)
        let offer = try SessionDescription(parsing: try fixture(f.file))
        #expect(result.remote.credentials.ufrag == offer.media[0].value(of: "ice-ufrag", session: offer.attributes))
        #expect(result.remote.credentials.password == offer.media[0].value(of: "ice-pwd", session: offer.attributes))
        // Every fingerprint line of the offer with a hash OpenSSL computes, parsed once, in order.
        let lines = offer.media[0].attributes.values(of: "fingerprint") + offer.attributes.values(of: "fingerprint")
        #expect(!result.remote.fingerprints.isEmpty)
        #expect(result.remote.fingerprints == lines.compactMap { try? DTLSFingerprint(parsing: $0) })
    }

    @Test(arguments: PublishFixture.all.filter(\.simulcast))
    func simulcastIsAnsweredRecvWithEachRid(_ f: PublishFixture) throws {
        let video = sectionLines(try negotiate(f).answer, mid: "1")
        #expect(video.contains("a=simulcast:recv h;m;l"))
        #expect(video.filter { $0.hasPrefix("a=rid:") } == ["a=rid:h recv", "a=rid:m recv", "a=rid:l recv"])
    }

    @Test func chromiumFeedbackKeepsNACKPLIFIRAndTransportCCButNotREMB() throws {
        let codec = try SDPNegotiator.negotiatePublish(offer: try fixture("chromium-publish.sdp"), local: SDPSamples.local).media[1].codec
        #expect(codec.feedback == ["transport-cc", "ccm fir", "nack", "nack pli"])
        let answer = sectionLines(
            try SDPNegotiator.negotiatePublish(offer: try fixture("chromium-publish.sdp"), local: SDPSamples.local).answer, mid: "1")
        #expect(!answer.contains { $0.contains("goog-remb") })
        #expect(answer.contains("a=rtcp-fb:96 nack pli"))
    }

    /// aiortc offers no transport-wide-cc extension, so transport-cc feedback is not kept either.
    @Test func aiortcFeedbackHasNoTransportCCWithoutTheExtension() throws {
        let codec = try SDPNegotiator.negotiatePublish(offer: try fixture("aiortc-publish.sdp"), local: SDPSamples.local).media[1].codec
        #expect(codec.feedback == ["nack", "nack pli"])
    }

    /// Firefox offers the rid extensions as `/sendonly`; the answer mirrors them as `/recvonly`
    /// (RFC 8285 §7) and drops the ones it only receives (`/recvonly` playout-delay).
    @Test func firefoxDirectionalExtensionsAreAnsweredRecvonly() throws {
        let video = sectionLines(
            try SDPNegotiator.negotiatePublish(offer: try fixture("firefox-publish-simulcast.sdp"), local: SDPSamples.local).answer, mid: "1")
        #expect(video.contains("a=extmap:9/recvonly urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"))
        #expect(video.contains("a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid"))
        #expect(!video.contains { $0.contains("playout-delay") || $0.contains("toffset") })
    }

    /// Firefox marks the video section bundle-only with port 0 (RFC 8843 §6); it is still accepted.
    @Test func firefoxBundleOnlySectionIsAccepted() throws {
        let result = try SDPNegotiator.negotiatePublish(offer: try fixture("firefox-publish.sdp"), local: SDPSamples.local)
        #expect(result.media.count == 2)
        #expect(sectionLines(result.answer, mid: "1").first == "m=video 9 UDP/TLS/RTP/SAVPF 120 124")
    }

    @Test func msidAndSSRCComeFromTheOffer() throws {
        let result = try SDPNegotiator.negotiatePublish(offer: try fixture("aiortc-publish.sdp"), local: SDPSamples.local)
        #expect(result.media[1].ssrc == 447_191_217 && result.media[1].rtxSSRC == 1_837_117_378)
        #expect(result.media[1].streamId == "0e84e37c-5c18-4f4b-b866-cd135c495b01")
        #expect(result.media[1].trackId == "85df068c-f73b-4f5e-a0ec-e83ebcb222d4")
        #expect(result.media[0].ssrc == 1_516_670_842 && result.media[0].rtxSSRC == nil)
    }
}
