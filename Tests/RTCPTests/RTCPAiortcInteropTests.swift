import CodecTestSupport
import Testing
@testable import RTCP

/// RTCP checked against aiortc's independent parser and writer (`aiortc.rtp.RtcpPacket`): a
/// compound datagram of everything Parley writes is decoded by aiortc, and packets aiortc writes
/// are decoded here. (aiortc has no transport-cc code; `RTCPTransportCCTests` uses hand-worked
/// vectors instead.)
@Suite struct RTCPAiortcInteropTests {
    static let script = """
        import json, sys
        from aiortc.rtp import (RtcpPacket, RtcpSrPacket, RtcpRrPacket, RtcpSdesPacket, RtcpByePacket,
            RtcpRtpfbPacket, RtcpPsfbPacket, RtcpSenderInfo, RtcpReceiverInfo, RtcpSourceInfo,
            pack_remb_fci, unpack_remb_fci)
        def report(r):
            return [r.ssrc, r.fraction_lost, r.packets_lost, r.highest_sequence, r.jitter, r.lsr, r.dlsr]
        parsed = []
        for p in RtcpPacket.parse(bytes.fromhex(sys.argv[1])):
            if isinstance(p, RtcpSrPacket):
                i = p.sender_info
                parsed.append({"t": "sr", "ssrc": p.ssrc, "ntp": str(i.ntp_timestamp), "rtp": i.rtp_timestamp,
                               "packets": i.packet_count, "octets": i.octet_count, "reports": [report(r) for r in p.reports]})
            elif isinstance(p, RtcpRrPacket):
                parsed.append({"t": "rr", "ssrc": p.ssrc, "reports": [report(r) for r in p.reports]})
            elif isinstance(p, RtcpSdesPacket):
                parsed.append({"t": "sdes", "ssrc": p.chunks[0].ssrc,
                               "items": [[k, v.decode()] for k, v in p.chunks[0].items]})
            elif isinstance(p, RtcpByePacket):
                parsed.append({"t": "bye", "sources": p.sources})
            elif isinstance(p, RtcpRtpfbPacket):
                parsed.append({"t": "rtpfb", "fmt": p.fmt, "ssrc": p.ssrc, "media": p.media_ssrc,
                               "lost": [x % 65536 for x in p.lost]})  # aiortc does not wrap PID + bit
            elif isinstance(p, RtcpPsfbPacket):
                d = {"t": "psfb", "fmt": p.fmt, "ssrc": p.ssrc, "media": p.media_ssrc, "fci": p.fci.hex()}
                if p.fmt == 15:
                    bitrate, ssrcs = unpack_remb_fci(p.fci)
                    d["bitrate"] = bitrate
                    d["ssrcs"] = ssrcs
                parsed.append(d)
        block = RtcpReceiverInfo(ssrc=7, fraction_lost=12, packets_lost=-3, highest_sequence=70000, jitter=9,
                                 lsr=0x11112222, dlsr=0x00030000)
        written = b"".join(bytes(p) for p in [
            RtcpSrPacket(ssrc=5, sender_info=RtcpSenderInfo(ntp_timestamp=0x0102030405060708, rtp_timestamp=90000,
                         packet_count=10, octet_count=1000), reports=[block]),
            RtcpRrPacket(ssrc=6, reports=[block]),
            RtcpSdesPacket(chunks=[RtcpSourceInfo(ssrc=5, items=[(1, b"aiortc-cname")])]),
            RtcpRtpfbPacket(fmt=1, ssrc=6, media_ssrc=5, lost=[100, 105, 200, 216]),  # aiortc's writer cannot pack across the wrap
            RtcpPsfbPacket(fmt=1, ssrc=6, media_ssrc=5),
            RtcpPsfbPacket(fmt=15, ssrc=6, media_ssrc=0, fci=pack_remb_fci(2500000, [5, 8])),
            RtcpByePacket(sources=[5]),
        ])
        print(json.dumps({"parsed": parsed, "written": written.hex()}))
        """

    static let block = ReportBlock(ssrc: 0x0A0B_0C0D, fractionLost: 200, cumulativeLost: -70, highestSequence: 0x0002_FFFF,
                                   jitter: 1234, lastSR: 0x5555_AAAA, delaySinceLastSR: 99)

    /// Everything Parley writes, as one compound datagram.
    private func ourCompound() -> [UInt8] {
        var out: [UInt8] = []
        out += rtpWritten(capacity: 100) {
            SenderReport.write(into: $0, ssrc: 1, ntpTimestamp: 0xE000_0000_8000_0000, rtpTimestamp: 160_000,
                               packetCount: 50, octetCount: 6000, block: Self.block)
        }
        out += Array("parley-cname".utf8).withUnsafeBytes { name in
            rtpWritten(capacity: 100) { SDES.writeCname(into: $0, ssrc: 1, cname: name) }
        }
        out += rtpWritten(capacity: 100) { ReceiverReport.write(into: $0, senderSSRC: 1, block: Self.block) }
        out += rtpWritten(capacity: 100) { PictureLossIndication.write(into: $0, senderSSRC: 1, mediaSSRC: 2) }
        out += rtpWritten(capacity: 100) { FullIntraRequest.write(into: $0, senderSSRC: 1, mediaSSRC: 2, sequenceNumber: 3) }
        out += [UInt16]([65534, 65535, 0, 1, 17, 300]).withUnsafeBufferPointer { lost in
            rtpWritten(capacity: 100) { GenericNACK.write(into: $0, senderSSRC: 1, mediaSSRC: 2, lost: lost) }
        }
        out += [UInt32]([2, 3]).withUnsafeBufferPointer { ssrcs in
            rtpWritten(capacity: 100) { REMB.write(into: $0, senderSSRC: 1, bitrate: 1_500_000, ssrcs: ssrcs) }
        }
        out += rtpWritten(capacity: 100) { Bye.write(into: $0, ssrc: 1) }
        return out
    }

    @Test func aiortcDecodesWhatWeWriteAndWeDecodeWhatAiortcWrites() throws {
        let result = try runPythonJSON(Self.script, arguments: [ourCompound().hexString])
        let parsed = result["parsed"] as? [[String: Any]] ?? []
        #expect(parsed.count == 8)
        guard parsed.count == 8 else { return }
        let ourBlock: [Int] = [0x0A0B_0C0D, 200, -70, 0x0002_FFFF, 1234, 0x5555_AAAA, 99]

        #expect(parsed[0]["t"] as? String == "sr" && parsed[0]["ssrc"] as? Int == 1)
        #expect(parsed[0]["ntp"] as? String == String(UInt64(0xE000_0000_8000_0000)))
        #expect(parsed[0]["rtp"] as? Int == 160_000 && parsed[0]["packets"] as? Int == 50 && parsed[0]["octets"] as? Int == 6000)
        #expect(parsed[0]["reports"] as? [[Int]] == [ourBlock])
        #expect(parsed[1]["t"] as? String == "sdes" && parsed[1]["ssrc"] as? Int == 1)
        #expect((parsed[1]["items"] as? [[Any]])?.first?.last as? String == "parley-cname")
        #expect(parsed[2]["t"] as? String == "rr" && parsed[2]["reports"] as? [[Int]] == [ourBlock])
        #expect(parsed[3]["t"] as? String == "psfb" && parsed[3]["fmt"] as? Int == 1 && parsed[3]["media"] as? Int == 2)
        #expect(parsed[4]["t"] as? String == "psfb" && parsed[4]["fmt"] as? Int == 4 && parsed[4]["fci"] as? String == "0000000203000000")
        #expect(parsed[5]["t"] as? String == "rtpfb" && parsed[5]["lost"] as? [Int] == [65534, 65535, 0, 1, 17, 300])
        #expect(parsed[6]["bitrate"] as? Int == 1_500_000 && parsed[6]["ssrcs"] as? [Int] == [2, 3])
        #expect(parsed[7]["t"] as? String == "bye" && parsed[7]["sources"] as? [Int] == [1])

        let written = rtpBytes(result["written"] as? String ?? "")
        written.withUnsafeBytes { raw in
            var it = RTCPCompoundIterator(raw)
            let aiortcBlock = ReportBlock(ssrc: 7, fractionLost: 12, cumulativeLost: -3, highestSequence: 70000, jitter: 9,
                                          lastSR: 0x1111_2222, delaySinceLastSR: 0x0003_0000)
            guard let sr = it.next().flatMap(SenderReport.init(parsing:)) else { Issue.record("SR"); return }
            #expect(sr.ssrc == 5 && sr.ntpTimestamp == 0x0102_0304_0506_0708 && sr.rtpTimestamp == 90000)
            #expect(sr.packetCount == 10 && sr.octetCount == 1000 && sr.reportBlock(at: 0) == aiortcBlock)
            guard let rr = it.next().flatMap(ReceiverReport.init(parsing:)) else { Issue.record("RR"); return }
            #expect(rr.senderSSRC == 6 && rr.reportBlock(at: 0) == aiortcBlock)
            guard let sdes = it.next().flatMap(SDES.firstCname(in:)) else { Issue.record("SDES"); return }
            #expect(sdes.ssrc == 5 && Array(sdes.cname) == Array("aiortc-cname".utf8))
            guard let nack = it.next().flatMap(GenericNACK.init(parsing:)) else { Issue.record("NACK"); return }
            var lost: [UInt16] = []
            nack.forEachLostSequence { lost.append($0) }
            #expect(lost == [100, 105, 200, 216])
            let pli = it.next().flatMap(PictureLossIndication.init(parsing:))
            #expect(pli == PictureLossIndication(senderSSRC: 6, mediaSSRC: 5))
            guard let remb = it.next().flatMap(REMB.init(parsing:)) else { Issue.record("REMB"); return }
            #expect(remb.bitrate == 2_500_000 && remb.ssrcCount == 2 && remb.ssrc(at: 1) == 8)
            let bye = it.next().flatMap(Bye.init(parsing:))
            #expect(bye?.count == 1 && bye?.ssrc(at: 0) == 5)
            let end = it.next()
            #expect(end == nil && !it.isMalformed)
        }
    }
}
