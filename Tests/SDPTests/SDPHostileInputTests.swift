import CodecTestSupport
import Testing
@testable import SDP

/// SDP from clients is hostile input (docs/architecture.md "Budgets and bounds"): every case here must
/// give an SDPError, never a crash or a hang.
@Suite struct SDPHostileInputTests {
    func error(_ offer: String) -> SDPError? {
        sdpError { () throws(SDPError) in try SDPNegotiator.negotiatePublish(offer: offer, local: SDPSamples.local) }
    }

    @Test(arguments: ["", "garbage", "\r\n\r\n", "v=1\r\n", "o=- 1 1 IN IP4 0.0.0.0\r\n", "v=0\r\ns=-\r\n", "v=0\r\no=- x 1 IN IP4 0.0.0.0\r\ns=-\r\n",
                      "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nthis is not sdp\r\n", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=\r\n",
                      "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=video\r\n", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nA=b\r\n",
                      "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\na=\r\n", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nv=0\r\n",
                      "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\na=x\u{0}y\r\n"])
    func garbageIsAnError(_ text: String) {
        #expect(error(text) != nil)
    }

    /// A cut anywhere gives an error or, when what is left still makes sense (e.g. only the
    /// audio section), an answer that parses.
    @Test func everyTruncationOfARealOfferIsAnErrorOrAValidAnswer() throws {
        let offer = try fixture("chromium-publish-simulcast.sdp")
        let utf8 = Array(offer.utf8)
        // Every 97th cut point and the last few: a cut anywhere must not crash.
        for cut in Array(stride(from: 0, to: utf8.count, by: 97)) + Array((utf8.count - 8)..<utf8.count) {
            let text = String(decoding: utf8[..<cut], as: UTF8.self)
            if let result = try? SDPNegotiator.negotiatePublish(offer: text, local: SDPSamples.local) {
                #expect(throws: Never.self) { _ = try SessionDescription(parsing: result.answer) }
            }
        }
    }

    @Test(arguments: [
        "m=video 70000 UDP/TLS/RTP/SAVPF 96", "m=video 9 UDP/TLS/RTP/SAVPF 300", "m=video 9 UDP/TLS/RTP/SAVPF 99999999999999999999",
        "m=video 9/99999999 UDP/TLS/RTP/SAVPF 96", "m=video -1 UDP/TLS/RTP/SAVPF 96",
    ])
    func absurdMLineNumbersAreErrors(_ mLine: String) {
        #expect(error(handOffer().replacingOccurrences("m=video 9 UDP/TLS/RTP/SAVPF 96 97", with: mLine)) != nil)
    }

    @Test(arguments: [
        "a=rtpmap:96 VP8/99999999999999", "a=rtpmap:999 VP8/90000", "a=rtpmap:96", "a=rtpmap:96 VP8",
        "a=extmap:0 urn:ietf:params:rtp-hdrext:sdes:mid", "a=extmap:256 urn:ietf:params:rtp-hdrext:sdes:mid",
        "a=extmap:1/sideways urn:ietf:params:rtp-hdrext:sdes:mid", "a=extmap:abc",
        "a=ssrc:99999999999 cname:x", "a=ssrc-group:FID 1", "a=simulcast:send", "a=simulcast:sideways h",
        "a=rid:h send\r\na=simulcast:send h;h", "a=rtcp-fb:500 nack",
    ])
    func absurdAttributeValuesAreErrors(_ line: String) {
        #expect(error(handOffer(media: [line])) != nil, "\(line)")
    }

    @Test func tenThousandMLinesAreRefused() {
        let text = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" + String(repeating: "m=audio 9 RTP/AVP 0\r\n", count: 10_000)
        #expect(error(text) != nil)
    }

    @Test func moreMediaSectionsThanTheLimitAreRefusedEvenWhenSmall() {
        let text = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" + String(repeating: "m=audio 0 RTP/AVP 0\r\n", count: 257)
        #expect(error(text) == .tooManyMediaSections(limit: 256))
    }

    @Test func textOverSixtyFourKiBIsRefused() {
        let text = handOffer() + String(repeating: "a=x-padding:0123456789012345678901234567890123456789\r\n", count: 1300)
        #expect(error(text) == .tooLarge(bytes: text.utf8.count, limit: SDPLimits.maxBytes))
    }

    @Test func hugeOriginNumbersAreRefused() {
        let text = "v=0\r\no=- \(String(repeating: "9", count: 40)) 1 IN IP4 0.0.0.0\r\ns=-\r\n"
        #expect(error(text) != nil)
    }

    @Test func tooManyRidsAreRefused() {
        let rids = (0..<20).map { "r\($0)" }
        let media = rids.map { "a=rid:\($0) send" } + ["a=simulcast:send " + rids.joined(separator: ";")]
        #expect(error(handOffer(media: media)) == .tooManyItems(what: "simulcast rids", limit: SDPLimits.maxRids))
    }

    @Test func overlongMidIsRefused() {
        #expect(error(handOffer().replacingOccurrences("a=mid:0", with: "a=mid:" + String(repeating: "x", count: 300))) != nil)
    }

    @Test func hostileSubscribeAnswersAreErrors() {
        for text in ["", "garbage", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n"] {
            let error = sdpError { () throws(SDPError) in try SDPNegotiator.parseSubscribeAnswer(text, offered: SDPSamples.tracks) }
            #expect(error != nil)
        }
    }
}
