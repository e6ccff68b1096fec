import CodecTestSupport
import Testing
@testable import RTCP

/// PLI, FIR, generic NACK and REMB against byte vectors from RFC 4585 §6, RFC 5104 §4.3.1 and
/// draft-alvestrand-rmcat-remb §2.2.
@Suite struct RTCPFeedbackTests {
    @Test func pliIsTwelveBytesOfPsfbFormat1() {
        let pli = rtpBytes("81 CE 00 02  00 00 00 01  11 22 33 44")
        #expect(rtpWritten(capacity: 12) { PictureLossIndication.write(into: $0, senderSSRC: 1, mediaSSRC: 0x1122_3344) } == pli)
        pli.withUnsafeBytes { raw in
            let parsed = RTCPPacketView(raw).flatMap(PictureLossIndication.init(parsing:))
            #expect(parsed == PictureLossIndication(senderSSRC: 1, mediaSSRC: 0x1122_3344))
        }
        #expect(rtpWritten(capacity: 11) { PictureLossIndication.write(into: $0, senderSSRC: 1, mediaSSRC: 2) }.isEmpty)
    }

    @Test func pliParserRefusesOtherFeedbackFormats() {
        rtpBytes("84 CE 00 02  00 00 00 01  11 22 33 44").withUnsafeBytes { raw in
            #expect(RTCPPacketView(raw).flatMap(PictureLossIndication.init(parsing:)) == nil)
        }
    }

    @Test func firCarriesTheMediaSSRCInItsFciEntry() {
        // RFC 5104 §4.3.1: media source SSRC 0, FCI = SSRC | seq nr | reserved.
        let fir = rtpBytes("84 CE 00 04  00 00 00 01  00 00 00 00  11 22 33 44  07 00 00 00")
        #expect(rtpWritten(capacity: 32) { FullIntraRequest.write(into: $0, senderSSRC: 1, mediaSSRC: 0x1122_3344, sequenceNumber: 7) } == fir)
        fir.withUnsafeBytes { raw in
            guard let packet = RTCPPacketView(raw), let parsed = FullIntraRequest(parsing: packet) else {
                Issue.record("did not parse"); return
            }
            #expect(parsed.senderSSRC == 1 && parsed.ssrc == 0x1122_3344 && parsed.sequenceNumber == 7 && parsed.count == 1)
            #expect(FullIntraRequest.entry(at: 1, in: packet) == nil)
        }
    }

    @Test func firWithTwoEntries() {
        rtpBytes("84 CE 00 06  00 00 00 01  00 00 00 00  11 22 33 44  07 00 00 00  55 66 77 88  09 00 00 00").withUnsafeBytes { raw in
            guard let packet = RTCPPacketView(raw) else { Issue.record("did not parse"); return }
            #expect(FullIntraRequest(parsing: packet)?.count == 2)
            let second = FullIntraRequest.entry(at: 1, in: packet)
            #expect(second?.ssrc == 0x5566_7788 && second?.sequenceNumber == 9)
        }
    }

    @Test func firWithoutEntriesIsRejected() {
        rtpBytes("84 CE 00 02  00 00 00 01  00 00 00 00").withUnsafeBytes { raw in
            #expect(RTCPPacketView(raw).flatMap(FullIntraRequest.init(parsing:)) == nil)
        }
    }

    private func lostList(_ bytes: [UInt8]) -> [UInt16]? {
        bytes.withUnsafeBytes { raw -> [UInt16]? in
            guard let nack = RTCPPacketView(raw).flatMap(GenericNACK.init(parsing:)) else { return nil }
            var lost: [UInt16] = []
            nack.forEachLostSequence { lost.append($0) }
            return lost
        }
    }

    private func writeNACK(_ lost: [UInt16], capacity: Int = 200) -> [UInt8] {
        lost.withUnsafeBufferPointer { list in
            rtpWritten(capacity: capacity) { GenericNACK.write(into: $0, senderSSRC: 1, mediaSSRC: 0x1122_3344, lost: list) }
        }
    }

    @Test func nackPidAndBitmaskListLostPackets() {
        // RFC 4585 §6.2.1: PID 100 lost, BLP bits 0 and 15 say 101 and 116 are lost too.
        let nack = rtpBytes("81 CD 00 03  00 00 00 01  11 22 33 44  00 64 80 01")
        #expect(lostList(nack) == [100, 101, 116])
    }

    @Test func nackPacksAcrossTheWrapIntoOneEntry() {
        let bytes = writeNACK([65534, 65535, 0, 5])
        // 65535, 0 and 5 are 1, 2 and 7 after PID 65534: BLP bits 0, 1, 6.
        #expect(bytes == rtpBytes("81 CD 00 03  00 00 00 01  11 22 33 44  FF FE 00 43"))
        #expect(lostList(bytes) == [65534, 65535, 0, 5])
    }

    @Test func nackStartsANewEntryBeyond16() {
        let lost: [UInt16] = [10, 26, 27, 100, 65535, 3]
        let bytes = writeNACK(lost)
        // 10 + bit 15 (26); 27 new; 100 new; 65535 new with bit 3 (3).
        #expect(bytes == rtpBytes("81 CD 00 06  00 00 00 01  11 22 33 44  00 0A 80 00  00 1B 00 00  00 64 00 00  FF FF 00 08"))
        #expect(lostList(bytes) == lost)
    }

    @Test func nackRoundTripsARandomSortedLossList() {
        var rng = SeededGenerator(seed: 42)
        var seq: UInt16 = 65000
        var lost: [UInt16] = []
        for _ in 0..<300 {
            seq &+= UInt16.random(in: 1...20, using: &rng)
            lost.append(seq)
        }
        #expect(lostList(writeNACK(lost, capacity: 1500)) == lost)
    }

    @Test func nackWritesOnlyTheEntriesThatFit() {
        let bytes = writeNACK([1, 100, 200, 300], capacity: 20)
        #expect(bytes.count == 20)
        #expect(lostList(bytes) == [1, 100])
        #expect(writeNACK([], capacity: 100).isEmpty)
        #expect(writeNACK([1], capacity: 15).isEmpty)
    }

    // MARK: REMB

    @Test func rembOfOnePointFiveMegabitsIsExact() {
        // 1 500 000 = 187 500 × 2^3: exponent 3, mantissa 0x2DC6C.
        let remb = rtpBytes("8F CE 00 05  00 00 00 01  00 00 00 00  52 45 4D 42  01 0E DC 6C  11 22 33 44")
        let ssrcs: [UInt32] = [0x1122_3344]
        let bytes = ssrcs.withUnsafeBufferPointer { list in
            rtpWritten(capacity: 64) { REMB.write(into: $0, senderSSRC: 1, bitrate: 1_500_000, ssrcs: list) }
        }
        #expect(bytes == remb)
        remb.withUnsafeBytes { raw in
            guard let parsed = RTCPPacketView(raw).flatMap(REMB.init(parsing:)) else { Issue.record("did not parse"); return }
            #expect(parsed.senderSSRC == 1 && parsed.bitrate == 1_500_000)
            #expect(parsed.ssrcCount == 1 && parsed.ssrc(at: 0) == 0x1122_3344 && parsed.ssrc(at: 1) == nil)
        }
    }

    private func rembRoundTrip(_ bitrate: UInt64) -> UInt64? {
        let bytes = [UInt32]().withUnsafeBufferPointer { list in
            rtpWritten(capacity: 64) { REMB.write(into: $0, senderSSRC: 1, bitrate: bitrate, ssrcs: list) }
        }
        return bytes.withUnsafeBytes { RTCPPacketView($0).flatMap(REMB.init(parsing:))?.bitrate }
    }

    @Test func rembOfTenGigabitsRoundsDownWithin18BitsOfPrecision() {
        let back = rembRoundTrip(10_000_000_000)
        #expect(back == 152_587 << 16)
        if let back { #expect(back <= 10_000_000_000 && 10_000_000_000 - back < (10_000_000_000 >> 17)) }
    }

    @Test func rembSmallAndHugeValues() {
        #expect(rembRoundTrip(0) == 0)
        #expect(rembRoundTrip(262_143) == 262_143)
        #expect(rembRoundTrip(UInt64.max) == UInt64(0x3_FFFF) << 46)
    }

    @Test func rembExponentPast64BitsClampsToMax() {
        // exponent 63, mantissa 0x3FFFF: far beyond 2^64.
        rtpBytes("8F CE 00 04  00 00 00 01  00 00 00 00  52 45 4D 42  00 FF FF FF").withUnsafeBytes { raw in
            #expect(RTCPPacketView(raw).flatMap(REMB.init(parsing:))?.bitrate == UInt64.max)
        }
    }

    @Test func rembWithoutTheIdentifierOrWithTooManySsrcsIsRejected() {
        rtpBytes("8F CE 00 04  00 00 00 01  00 00 00 00  52 45 4D 43  00 0E DC 6C").withUnsafeBytes { raw in
            #expect(RTCPPacketView(raw).flatMap(REMB.init(parsing:)) == nil)
        }
        rtpBytes("8F CE 00 04  00 00 00 01  00 00 00 00  52 45 4D 42  02 0E DC 6C").withUnsafeBytes { raw in
            #expect(RTCPPacketView(raw).flatMap(REMB.init(parsing:)) == nil)
        }
    }
}
