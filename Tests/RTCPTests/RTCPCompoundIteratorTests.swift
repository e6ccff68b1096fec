import CodecTestSupport
import Testing
@testable import RTCP

@Suite struct RTCPCompoundIteratorTests {
    static let sr = rtpBytes("80 C8 00 06  00 00 00 01  00 00 00 00 00 00 00 02  00 00 00 03  00 00 00 04  00 00 00 05")
    static let sdes = rtpBytes("81 CA 00 03  00 00 00 01  01 04 61 62  63 64 00 00")
    static let pli = rtpBytes("81 CE 00 02  00 00 00 01  11 22 33 44")

    private func types(_ bytes: [UInt8]) -> (types: [UInt8], malformed: Bool) {
        bytes.withUnsafeBytes { raw in
            var it = RTCPCompoundIterator(raw)
            var types: [UInt8] = []
            while let p = it.next() { types.append(p.packetType) }
            return (types, it.isMalformed)
        }
    }

    @Test func iteratesSenderReportSDESAndPLI() {
        let compound = Self.sr + Self.sdes + Self.pli
        compound.withUnsafeBytes { raw in
            var it = RTCPCompoundIterator(raw)
            let first = it.next()
            let second = it.next()
            let third = it.next()
            #expect(first?.packetType == 200 && first?.bytes.count == 28 && first?.format == 0)
            #expect(second?.packetType == 202 && second?.format == 1 && second?.bytes.count == 16)
            #expect(third?.packetType == 206 && third?.format == 1)
            #expect(third.flatMap(PictureLossIndication.init(parsing:))?.mediaSSRC == 0x1122_3344)
            let fourth = it.next()
            #expect(fourth == nil)
            #expect(!it.isMalformed)
        }
    }

    @Test func aReducedSizePacketAloneIsIterated() {
        #expect(types(Self.pli) == ([206], false))
    }

    @Test func aLengthPastTheEndStopsTheIteration() {
        // The middle packet claims 256 words.
        let compound = Self.sr + rtpBytes("81 C9 00 FF  00 00 00 01") + Self.pli
        #expect(types(compound) == ([200], true))
    }

    @Test func aWrongVersionStopsTheIteration() {
        #expect(types(Self.sr + rtpBytes("41 C9 00 01  00 00 00 01") + Self.pli) == ([200], true))
    }

    @Test func trailingBytesShorterThanAHeaderAreMalformed() {
        #expect(types(Self.sr + [0x80, 0xC9]) == ([200], true))
    }

    @Test func paddingOfTheLastPacketIsExcludedFromItsBody() {
        // RR with P=1 and four bytes of padding (RFC 3550 §6.4.1: the last octet counts them).
        let rr = rtpBytes("A0 C9 00 02  AA BB CC DD  00 00 00 04")
        rr.withUnsafeBytes { raw in
            var it = RTCPCompoundIterator(raw)
            guard let p = it.next() else { Issue.record("did not parse"); return }
            #expect(p.paddingLength == 4 && p.body.count == 4)
            #expect(ReceiverReport(parsing: p)?.senderSSRC == 0xAABB_CCDD)
        }
    }

    @Test func paddingCountsOfZeroOrPastTheBodyAreMalformed() {
        #expect(types(rtpBytes("A0 C9 00 02  AA BB CC DD  00 00 00 00")) == ([], true))
        #expect(types(rtpBytes("A0 C9 00 02  AA BB CC DD  00 00 00 09")) == ([], true))
    }

    @Test func anEmptyDatagramHasNoPackets() {
        #expect(types([]) == ([], false))
    }

    @Test func iteratorIsASequence() {
        (Self.sr + Self.pli).withUnsafeBytes { raw in
            var count = 0
            for _ in RTCPCompoundIterator(raw) { count += 1 }
            #expect(count == 2)
        }
    }
}
