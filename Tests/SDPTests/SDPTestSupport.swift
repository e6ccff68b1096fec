import CodecTestSupport
import DTLS
import ICE
@testable import SDP

/// Shared values for the SDP suites.
enum SDPSamples {
    /// Parley's side as the lead wires it: ICECandidateLines for UDP and passive TCP on 7882.
    static let local = LocalTransport(
        credentials: ICECredentials(ufrag: "prly", password: "parleyParleyParley123456"),
        fingerprint: try! DTLSFingerprint(parsing: "sha-256 5E:8B:E8:B0:0A:8B:12:5C:59:83:E4:94:04:4B:5B:1A:77:7E:C4:A2:2C:33:83:1D:62:3F:2F:6E:8A:58:2C:F1"),
        candidates: ICECandidateLines.lines(announcedIP: "127.0.0.1", port: 7882, iceTCP: true),
        address: "127.0.0.1", sessionId: 4_611_686_018_427_387_904)

    static let aliceAudio = SubscribeTrack(
        mid: "0", kind: .audio,
        codec: SubscribeCodecs.codec(forwarding: RTPCodec(name: .opus, payloadType: 109, fmtp: "minptime=10;useinbandfec=1")),
        ssrc: 1001, streamId: "alice", trackId: "alice-mic")
    static let aliceVideo = SubscribeTrack(
        mid: "1", kind: .video, codec: SubscribeCodecs.codec(forwarding: RTPCodec(name: .vp8, payloadType: 120)),
        ssrc: 2001, rtxSSRC: 2002, streamId: "alice", trackId: "alice-camera")
    /// A track whose publisher left: the section stays, inactive.
    static let carolVideoGone = SubscribeTrack(
        mid: "2", kind: .video, codec: SubscribeCodecs.codec(forwarding: RTPCodec(name: .vp8, payloadType: 96)),
        ssrc: 3001, rtxSSRC: 3002, streamId: "carol", trackId: "carol-camera", active: false)
    static let bobVideo = SubscribeTrack(
        mid: "3", kind: .video,
        codec: SubscribeCodecs.codec(
            forwarding: RTPCodec(name: .h264, payloadType: 108, fmtp: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f")),
        ssrc: 4001, rtxSSRC: 4002, streamId: "bob", trackId: "bob-camera")

    /// The tracks of `parley-subscribe-offer.sdp`, the offer the captured subscribe answers answer.
    static let tracks = [aliceAudio, aliceVideo, carolVideoGone, bobVideo]
    static let subscribeOfferVersion: UInt64 = 3
}

/// Lines of an SDP text (either line ending).
func sdpLines(_ text: String) -> [String] {
    text.split(whereSeparator: \.isNewline).map(String.init)
}

/// The lines of the m-section with `mid`, its m= line first.
func sectionLines(_ text: String, mid: String) -> [String] {
    var sections: [[String]] = []
    for line in sdpLines(text) {
        if line.hasPrefix("m=") { sections.append([line]) } else if !sections.isEmpty { sections[sections.count - 1].append(line) }
    }
    return sections.first { $0.contains("a=mid:\(mid)") } ?? []
}

/// A small hand-written publish offer in Chromium's layout: one sendonly video section (mid 0)
/// with the given payload types and their rtpmap/fmtp lines, and optionally an audio section
/// (mid 1). `session` and `media` lines are added at session level and to every m-section;
/// `replacing` edits the result (e.g. to change the setup role).
func handOffer(
    videoFormats: String = "96 97", videoCodecs: [String] = ["a=rtpmap:96 VP8/90000", "a=rtpmap:97 rtx/90000", "a=fmtp:97 apt=96"],
    audio: Bool = false, session: [String] = [], media: [String] = [], bundle: Bool = true
) -> String {
    var lines = ["v=0", "o=- 1 2 IN IP4 127.0.0.1", "s=-", "t=0 0"]
    if bundle { lines.append(audio ? "a=group:BUNDLE 0 1" : "a=group:BUNDLE 0") }
    lines += session
    let transport = [
        "c=IN IP4 0.0.0.0", "a=ice-ufrag:abcd", "a=ice-pwd:0123456789abcdefghijklmn",
        "a=fingerprint:sha-256 04:25:EA:50:2F:4B:CE:4E:3C:04:C6:8B:B1:A3:4C:30:C0:CD:A8:C5:6F:11:FF:E6:2C:77:9B:5C:9A:EE:1A:49",
        "a=setup:actpass", "a=rtcp-mux",
    ]
    lines += ["m=video 9 UDP/TLS/RTP/SAVPF \(videoFormats)"] + transport + ["a=mid:0", "a=sendonly"] + media + videoCodecs
    if audio {
        lines += ["m=audio 9 UDP/TLS/RTP/SAVPF 111"] + transport + ["a=mid:1", "a=sendonly"] + media
        lines += ["a=rtpmap:111 opus/48000/2", "a=fmtp:111 minptime=10;useinbandfec=1"]
    }
    return lines.joined(separator: "\r\n") + "\r\n"
}

/// The error `body` throws, or nil.
func sdpError<T>(_ body: () throws(SDPError) -> T) -> SDPError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}
