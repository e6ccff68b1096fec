import CodecTestSupport
import Testing
@testable import RTP

/// RTP headers checked against aiortc's independent parser and writer (`aiortc.rtp.RtpPacket`):
/// what `RTPHeaderWriter` writes aiortc reads back, and what aiortc writes (two-byte extension
/// form, CSRC, padding) `RTPPacketView` reads back.
@Suite struct RTPAiortcInteropTests {
    static let script = """
        import json, sys
        from aiortc.rtp import RtpPacket, HeaderExtensionsMap
        from aiortc.rtcrtpparameters import RTCRtpParameters, RTCRtpHeaderExtensionParameters as H
        m = HeaderExtensionsMap()
        m.configure(RTCRtpParameters(headerExtensions=[
            H(id=1, uri="urn:ietf:params:rtp-hdrext:ssrc-audio-level"),
            H(id=2, uri="http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"),
            H(id=3, uri="http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"),
            H(id=4, uri="urn:ietf:params:rtp-hdrext:sdes:mid"),
            H(id=10, uri="urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"),
        ]))
        p = RtpPacket.parse(bytes.fromhex(sys.argv[1]), m)
        e = p.extensions
        out = {"pt": p.payload_type, "marker": bool(p.marker), "seq": p.sequence_number, "ts": p.timestamp,
               "ssrc": p.ssrc, "abs": e.abs_send_time, "voice": e.audio_level[0], "level": e.audio_level[1],
               "tw": e.transport_sequence_number, "mid": e.mid, "payload": p.payload.hex()}
        q = RtpPacket(payload_type=96, marker=1, sequence_number=65535, timestamp=3000, ssrc=0xDEADBEEF,
                      payload=bytes([1, 2, 3]))
        q.csrc = [0x01020304]
        q.padding_size = 5
        q.extensions.rtp_stream_id = "r" * 20
        q.extensions.transport_sequence_number = 4242
        q.extensions.mid = "1"
        out["written"] = q.serialize(m).hex()
        print(json.dumps(out))
        """

    @Test func aiortcReadsOurHeaderAndWeReadAiortcsTwoByteForm() throws {
        let mid = Array("audio".utf8)
        var packet = [UInt8](repeating: 0, count: 64)
        let abs = AbsSendTime.value(microsecondsSinceStart: 2_750_000)
        let n = packet.withUnsafeMutableBytes { out in
            mid.withUnsafeBytes { midBytes in
                RTPHeaderWriter.write(into: out, marker: true, payloadType: 111, sequenceNumber: 513, timestamp: 0xFEDC_BA98,
                                      ssrc: 0x0102_0304, absSendTime: (2, abs), audioLevel: (1, AudioLevel(voice: true, level: 30).byte),
                                      transportSequence: (3, 65535), mid: (4, midBytes))
            }
        }
        packet = Array(packet.prefix(n)) + [0xAA, 0xBB]
        let result = try runPythonJSON(Self.script, arguments: [packet.hexString])

        #expect(result["pt"] as? Int == 111)
        #expect(result["marker"] as? Bool == true)
        #expect(result["seq"] as? Int == 513)
        #expect(result["ts"] as? Int == 0xFEDC_BA98)
        #expect(result["ssrc"] as? Int == 0x0102_0304)
        #expect(result["abs"] as? Int == Int(abs))
        #expect(result["voice"] as? Bool == true)
        #expect(result["level"] as? Int == 30)
        #expect(result["tw"] as? Int == 65535)
        #expect(result["mid"] as? String == "audio")
        #expect(result["payload"] as? String == "aabb")

        let written = rtpBytes(result["written"] as? String ?? "")
        written.withUnsafeBytes { raw in
            guard let p = RTPPacketView(raw) else { Issue.record("aiortc's packet did not parse"); return }
            #expect(p.extensionProfile == 0x1000)  // a 20-byte value needs the two-byte form
            #expect(p.marker && p.payloadType == 96 && p.sequenceNumber == 65535 && p.timestamp == 3000)
            #expect(p.ssrc == 0xDEAD_BEEF && p.csrc(at: 0) == 0x0102_0304)
            #expect(p.extensionElement(id: 10).map(Array.init) == Array(String(repeating: "r", count: 20).utf8))
            #expect(p.extensionElement(id: 3).map(Array.init) == [0x10, 0x92])
            #expect(p.extensionElement(id: 4).map(Array.init) == Array("1".utf8))
            #expect(p.paddingLength == 5)
            #expect(Array(p.payload) == [1, 2, 3])
        }
    }
}
