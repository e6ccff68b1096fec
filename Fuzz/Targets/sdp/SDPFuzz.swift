import DTLS
import CFuzzDriver
import Glibc
import ICE
import SDP

// libFuzzer target: the SDP parser (RFC 8866) and the two checks a client's SDP goes through:
// a publish offer answered by Parley (RFC 3264, RFC 8829 §5.3; simulcast RFC 8853, BUNDLE
// RFC 8843) and a subscribe answer read against the tracks Parley offered. Whatever the offer,
// an answer Parley writes must parse as SDP again.

private let local = LocalTransport(
    credentials: ICECredentials(ufrag: "fuzz", password: "fuzzfuzzfuzzfuzzfuzzfuzz"),
    fingerprint: try! DTLSFingerprint(parsing: "sha-256 5E:8B:E8:B0:0A:8B:12:5C:59:83:E4:94:04:4B:5B:1A:77:7E:C4:A2:2C:33:83:1D:62:3F:2F:6E:8A:58:2C:F1"),
    candidates: ICECandidateLines.lines(announcedIP: "127.0.0.1", port: 7882, iceTCP: true),
    address: "127.0.0.1", sessionId: 1)

private let offered = [
    SubscribeTrack(mid: "0", kind: .audio, codec: SubscribeCodecs.codec(forwarding: RTPCodec(name: .opus, payloadType: 111)),
                   ssrc: 1001, streamId: "alice", trackId: "alice-mic"),
    SubscribeTrack(mid: "1", kind: .video, codec: SubscribeCodecs.codec(forwarding: RTPCodec(name: .vp8, payloadType: 96)),
                   ssrc: 2001, rtxSSRC: 2002, streamId: "alice", trackId: "alice-camera"),
    SubscribeTrack(mid: "2", kind: .video, codec: SubscribeCodecs.codec(forwarding: RTPCodec(name: .vp8, payloadType: 96)),
                   ssrc: 3001, rtxSSRC: 3002, streamId: "carol", trackId: "carol-camera", active: false),
    SubscribeTrack(mid: "3", kind: .video,
                   codec: SubscribeCodecs.codec(forwarding: RTPCodec(name: .h264, payloadType: 102,
                                                                   fmtp: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f")),
                   ssrc: 4001, rtxSSRC: 4002, streamId: "bob", trackId: "bob-camera"),
]

func fuzzSDP(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let text = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? SessionDescription(parsing: text)
    if let negotiation = try? SDPNegotiator.negotiatePublish(offer: text, local: local) {
        do {
            _ = try SessionDescription(parsing: negotiation.answer)
        } catch {
            preconditionFailure("Parley's answer does not parse: \(error)")
        }
    }
    _ = try? SDPNegotiator.parseSubscribeAnswer(text, offered: offered)
    return 0
}

@main
enum SDPFuzz {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzSDP))
    }
}
