import CodecTestSupport
import Testing
@testable import SDP

@Suite struct SDPSessionDescriptionTests {
    static let captured = [
        "chromium-publish.sdp", "chromium-publish-simulcast.sdp", "firefox-publish.sdp", "firefox-publish-simulcast.sdp",
        "aiortc-publish.sdp", "safari-publish.sdp", "chromium-subscribe-answer.sdp", "aiortc-subscribe-answer.sdp",
    ]

    /// Browsers write CRLF; serialize() must give back every line in order.
    @Test(arguments: captured)
    func serializeWritesBackTheParsedLines(_ name: String) throws {
        let text = try fixture(name)
        let parsed = try SessionDescription(parsing: text)
        #expect(sdpLines(parsed.serialize()) == sdpLines(text))
        #expect(try SessionDescription(parsing: parsed.serialize()) == parsed)
    }

    @Test func parsesTheRfc8866Example() throws {
        // RFC 8866 §5 example session description.
        let text = """
            v=0
            o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1
            s=Call to John Smith
            i=SDP Offer #1
            u=http://www.jdoe.example.com/home.html
            e=Jane Doe <jane@jdoe.example.com>
            p=+1 617 555-6011
            c=IN IP4 198.51.100.1
            t=0 0
            m=audio 49170 RTP/AVP 0
            m=audio 49180 RTP/AVP 0
            m=video 51372 RTP/AVP 99
            c=IN IP6 2001:db8::2
            a=rtpmap:99 h263-1998/90000

            """
        let sdp = try SessionDescription(parsing: text)
        #expect(sdp.origin.username == "jdoe" && sdp.origin.sessionVersion == "3724394405")
        #expect(sdp.sessionName == "Call to John Smith")
        #expect(sdp.fields.map(\.type) == ["i", "u", "e", "p", "c", "t"])
        #expect(sdp.media.map(\.port) == [49170, 49180, 51372])
        #expect(sdp.media[2].fields == [SDPField("c", "IN IP6 2001:db8::2")])
        #expect(sdp.media[2].attributes == [SDPAttribute("rtpmap", "99 h263-1998/90000")])
    }

    @Test func directionFallsBackToSessionLevelThenSendrecv() throws {
        let sdp = try SessionDescription(parsing: try fixture("firefox-publish.sdp"))
        #expect(sdp.media[0].direction(session: sdp.attributes) == .sendonly)
        #expect(MediaSection(media: "audio", port: 9, proto: "RTP/AVP", formats: ["0"]).direction(session: sdp.attributes) == .sendrecv)
        #expect(MediaSection(media: "audio", port: 9, proto: "RTP/AVP", formats: ["0"]).direction(session: []) == .sendrecv)
    }

    @Test func bundleOnlyPortZeroIsNotRejected() throws {
        let sdp = try SessionDescription(parsing: try fixture("firefox-publish.sdp"))
        #expect(sdp.media[1].port == 0 && !sdp.media[1].isRejected)
    }
}
