import CodecTestSupport
import Testing
@testable import SDP

@Suite struct SDPSubscribeOfferTests {
    let offer = SDPNegotiator.subscribeOffer(tracks: SDPSamples.tracks, local: SDPSamples.local, version: SDPSamples.subscribeOfferVersion)

    /// The captured Chromium and aiortc answers answer exactly this text.
    @Test func offerIsTheOneTheCapturedAnswersAnswer() throws {
        #expect(offer == (try fixture("parley-subscribe-offer.sdp")))
    }

    @Test func offerParsesBackAndEndsWithCRLF() throws {
        let parsed = try SessionDescription(parsing: offer)
        #expect(parsed.media.map(\.mid) == ["0", "1", "2", "3"])
        #expect(offer.hasSuffix("\r\n"))
        #expect(!offer.replacingCRLF.contains("\r"))
    }

    @Test func sessionIsICELiteWithOriginVersionAndBundleOfEverySection() {
        let lines = sdpLines(offer)
        #expect(lines[1] == "o=- 4611686018427387904 3 IN IP4 127.0.0.1")
        #expect(lines.contains("a=ice-lite"))
        #expect(lines.contains("a=group:BUNDLE 0 1 2 3"))
    }

    @Test func eachTrackHasMsidOfPublisherUserIdAndTrackId() {
        #expect(sectionLines(offer, mid: "0").contains("a=msid:alice alice-mic"))
        #expect(sectionLines(offer, mid: "1").contains("a=msid:alice alice-camera"))
        #expect(sectionLines(offer, mid: "3").contains("a=msid:bob bob-camera"))
    }

    @Test func activeSectionIsSendonlyActpassWithTransport() {
        let lines = sectionLines(offer, mid: "1")
        #expect(lines.first == "m=video 9 UDP/TLS/RTP/SAVPF 96 97")
        for line in [
            "c=IN IP4 127.0.0.1", "a=sendonly", "a=setup:actpass", "a=rtcp-mux", "a=rtcp-rsize", "a=ice-ufrag:prly",
            "a=candidate:1 1 udp 2130706431 127.0.0.1 7882 typ host", "a=end-of-candidates",
            "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
        ] {
            #expect(lines.contains(line), "missing \(line)")
        }
    }

    @Test func videoWithRTXHasFidGroupAndSSRCLinesForBoth() {
        let lines = sectionLines(offer, mid: "1")
        #expect(lines.contains("a=ssrc-group:FID 2001 2002"))
        for ssrc in [2001, 2002] {
            #expect(lines.contains("a=ssrc:\(ssrc) cname:parley-alice"))
            #expect(lines.contains("a=ssrc:\(ssrc) msid:alice alice-camera"))
        }
        #expect(lines.contains("a=rtpmap:97 rtx/90000"))
        #expect(lines.contains("a=fmtp:97 apt=96"))
    }

    @Test func audioHasAudioLevelAndAbsSendTimeAndNoFidGroup() {
        let lines = sectionLines(offer, mid: "0")
        #expect(lines.contains("a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level"))
        #expect(lines.contains("a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"))
        #expect(lines.contains("a=rtpmap:111 opus/48000/2"))
        #expect(lines.contains("a=ssrc:1001 cname:parley-alice"))
        #expect(!lines.contains { $0.hasPrefix("a=ssrc-group") })
    }

    /// Not rejected with port 0: rejecting the section with the BUNDLE tag made Chrome close the
    /// DTLS association of the whole subscribe connection (found by the web client's test).
    @Test func goneTrackKeepsItsMidInactiveInTheBundleWithNoSSRC() {
        let lines = sectionLines(offer, mid: "2")
        #expect(lines.first == "m=video 9 UDP/TLS/RTP/SAVPF 96 97")
        #expect(lines.contains("a=inactive"))
        #expect(!lines.contains { $0.hasPrefix("a=ssrc") || $0.hasPrefix("a=msid") || $0.hasPrefix("a=candidate") })
    }

    @Test func offerWithOnlyGoneTracksKeepsItsBundleGroup() throws {
        let text = SDPNegotiator.subscribeOffer(tracks: [SDPSamples.carolVideoGone], local: SDPSamples.local, version: 9)
        let parsed = try SessionDescription(parsing: text)
        #expect(parsed.bundleMids == ["2"])
        #expect(parsed.media.count == 1 && parsed.media[0].port == 9)
    }

    @Test func subscribeCodecsUseParleysPayloadTypes() {
        #expect(SubscribeCodecs.codec(forwarding: RTPCodec(name: .opus, payloadType: 109)).payloadType == 111)
        let vp8 = SubscribeCodecs.codec(forwarding: RTPCodec(name: .vp8, payloadType: 120, fmtp: "max-fs=12288;max-fr=60"))
        #expect(vp8.payloadType == 96 && vp8.rtxPayloadType == 97 && vp8.fmtp == "")
        #expect(vp8.feedback == ["goog-remb", "ccm fir", "nack", "nack pli"])
        let vp9 = SubscribeCodecs.codec(forwarding: RTPCodec(name: .vp9, payloadType: 98, fmtp: "profile-id=0"))
        #expect(vp9.payloadType == 98 && vp9.rtxPayloadType == 99 && vp9.fmtp == "profile-id=0")
        let h264 = SubscribeCodecs.codec(
            forwarding: RTPCodec(name: .h264, payloadType: 108, fmtp: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"))
        #expect(h264.payloadType == 102 && h264.rtxPayloadType == 103)
        #expect(h264.fmtp == "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f")
        #expect(SubscribeCodecs.codec(forwarding: RTPCodec(name: .opus, payloadType: 109)).feedback == [])
    }

    @Test func ipv6AddressIsWrittenAsIP6() {
        var local = SDPSamples.local
        local.address = "2001:db8::1"
        let text = SDPNegotiator.subscribeOffer(tracks: [SDPSamples.aliceAudio], local: local, version: 1)
        #expect(sectionLines(text, mid: "0").contains("c=IN IP6 2001:db8::1"))
    }
}

extension String {
    var replacingCRLF: String { split(separator: "\r\n", omittingEmptySubsequences: false).joined(separator: "\n") }
}
