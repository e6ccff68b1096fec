import CodecTestSupport
import Testing
@testable import SDP

@Suite struct SDPCodecSelectionTests {
    func videoCodec(_ offer: String) throws -> RTPCodec {
        try SDPNegotiator.negotiatePublish(offer: offer, local: SDPSamples.local).media[0].codec
    }

    @Test func h264OnlyOfferChoosesConstrainedBaselineModeOneWithItsProfileLevelId() throws {
        let offer = handOffer(videoFormats: "100 101 102 103", videoCodecs: [
            "a=rtpmap:100 H264/90000", "a=fmtp:100 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f",
            "a=rtpmap:101 H264/90000", "a=fmtp:101 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e034",
            "a=rtpmap:102 rtx/90000", "a=fmtp:102 apt=101",
            "a=rtpmap:103 H264/90000", "a=fmtp:103 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
        ])
        let codec = try videoCodec(offer)
        #expect(codec.name == .h264 && codec.payloadType == 101 && codec.rtxPayloadType == 102)
        #expect(codec.fmtp == "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e034")
        let answer = sectionLines(try SDPNegotiator.negotiatePublish(offer: offer, local: SDPSamples.local).answer, mid: "0")
        #expect(answer.contains("a=fmtp:101 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e034"))
        #expect(answer.contains("a=rtpmap:101 H264/90000"))
    }

    @Test func h264WithOnlyPacketizationModeZeroIsRefused() {
        let offer = handOffer(videoFormats: "100", videoCodecs: [
            "a=rtpmap:100 H264/90000", "a=fmtp:100 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f",
        ])
        let error = sdpError { () throws(SDPError) in try SDPNegotiator.negotiatePublish(offer: offer, local: SDPSamples.local) }
        #expect(error == .noCommonCodec(kind: .video, mid: "0", index: 0, offered: ["H264 42e01f packetization-mode=0"]))
    }

    /// Baseline without constraint_set1 (42001f, which Chromium offers first) and High (640c1f,
    /// which Safari offers first) are not constrained baseline.
    @Test func h264BaselineAndHighProfilesAreNotChosen() {
        let offer = handOffer(videoFormats: "100 101", videoCodecs: [
            "a=rtpmap:100 H264/90000", "a=fmtp:100 packetization-mode=1;profile-level-id=42001f",
            "a=rtpmap:101 H264/90000", "a=fmtp:101 packetization-mode=1;profile-level-id=640c1f",
        ])
        let error = sdpError { () throws(SDPError) in try SDPNegotiator.negotiatePublish(offer: offer, local: SDPSamples.local) }
        #expect(error == .noCommonCodec(
            kind: .video, mid: "0", index: 0,
            offered: ["H264 42001f packetization-mode=1", "H264 640c1f packetization-mode=1"]))
    }

    /// RFC 6184 §8.1 Table 5: the three spellings of Constrained Baseline.
    @Test(arguments: [("42e01f", true), ("42c015", true), ("424028", true), ("4d801f", true), ("58c01f", true),
                      ("42001f", false), ("420010", false), ("4d001f", false), ("640c1f", false), ("588028", false),
                      ("42e11f", false), ("42e0", false), ("zzzzzz", false)])
    func constrainedBaselineProfileLevelIds(_ id: String, _ constrained: Bool) {
        #expect((H264Profile(profileLevelId: id)?.isConstrainedBaseline ?? false) == constrained)
    }

    @Test func vp9OnlyOfferChoosesProfileZero() throws {
        let codec = try videoCodec(handOffer(videoFormats: "100 98 99", videoCodecs: [
            "a=rtpmap:100 VP9/90000", "a=fmtp:100 profile-id=2",
            "a=rtpmap:98 VP9/90000", "a=fmtp:98 profile-id=0", "a=rtcp-fb:98 nack",
            "a=rtpmap:99 rtx/90000", "a=fmtp:99 apt=98",
        ]))
        #expect(codec.name == .vp9 && codec.payloadType == 98 && codec.rtxPayloadType == 99 && codec.fmtp == "profile-id=0")
        #expect(codec.feedback == ["nack"])
    }

    @Test func vp8IsPreferredOverH264AndVP9WhateverTheOfferOrder() throws {
        let codec = try videoCodec(handOffer(videoFormats: "98 102 96", videoCodecs: [
            "a=rtpmap:98 VP9/90000", "a=rtpmap:102 H264/90000", "a=fmtp:102 packetization-mode=1;profile-level-id=42e01f",
            "a=rtpmap:96 vp8/90000",
        ]))
        #expect(codec.name == .vp8 && codec.payloadType == 96 && codec.rtxPayloadType == nil)
    }

    @Test func av1OnlyOfferIsRefusedNamingTheSectionAndWhatItOffered() {
        let offer = handOffer(videoFormats: "45 46", videoCodecs: [
            "a=rtpmap:45 AV1/90000", "a=rtpmap:46 rtx/90000", "a=fmtp:46 apt=45",
        ])
        let error = sdpError { () throws(SDPError) in try SDPNegotiator.negotiatePublish(offer: offer, local: SDPSamples.local) }
        #expect(error == .noCommonCodec(kind: .video, mid: "0", index: 0, offered: ["AV1"]))
        #expect(error?.description ==
            "m-section 'video' (mid 0, index 0) offers no codec Parley can receive (VP8, H.264 constrained baseline "
            + "packetization-mode=1, VP9 profile 0); it offered: AV1")
    }

    @Test func audioWithoutOpusIsRefused() {
        let offer = handOffer(audio: true).replacingOccurrences("a=rtpmap:111 opus/48000/2", with: "a=rtpmap:111 PCMU/8000")
        let error = sdpError { () throws(SDPError) in try SDPNegotiator.negotiatePublish(offer: offer, local: SDPSamples.local) }
        #expect(error == .noCommonCodec(kind: .audio, mid: "1", index: 1, offered: ["PCMU"]))
    }

    @Test func opusMustBeStereoAt48kHz() {
        let offer = handOffer(audio: true).replacingOccurrences("a=rtpmap:111 opus/48000/2", with: "a=rtpmap:111 opus/48000")
        let error = sdpError { () throws(SDPError) in try SDPNegotiator.negotiatePublish(offer: offer, local: SDPSamples.local) }
        #expect(error == .noCommonCodec(kind: .audio, mid: "1", index: 1, offered: ["opus/48000/1"]))
    }

    @Test func wildcardFeedbackAppliesToTheChosenCodec() throws {
        let codec = try videoCodec(handOffer(media: ["a=rtcp-fb:* nack", "a=rtcp-fb:* goog-remb"]))
        #expect(codec.feedback == ["nack"])
    }
}
