import CodecTestSupport
import Testing
@testable import RTCP

/// Sender and receiver reports, SDES and BYE against byte vectors written from the RFC 3550 §6
/// layouts.
@Suite struct RTCPReportTests {
    /// RFC 3550 §6.4.1: SR with RC=1.
    static let senderReport = rtpBytes("""
        81 C8 00 0C  11 22 33 44
        E5 4D 2B 80 12 34 56 78  00 01 E2 40  00 00 03 E8  00 0F 42 40
        55 66 77 88  40 FF FF FE  00 01 00 10  00 00 00 20  2B 80 12 34  00 01 80 00
        """)
    static let block = ReportBlock(ssrc: 0x5566_7788, fractionLost: 64, cumulativeLost: -2, highestSequence: 0x0001_0010,
                                   jitter: 32, lastSR: 0x2B80_1234, delaySinceLastSR: 0x0001_8000)

    @Test func parsesASenderReportWithOneBlock() {
        Self.senderReport.withUnsafeBytes { raw in
            guard let packet = RTCPPacketView(raw), let sr = SenderReport(parsing: packet) else {
                Issue.record("did not parse"); return
            }
            #expect(sr.ssrc == 0x1122_3344)
            #expect(sr.ntpTimestamp == 0xE54D_2B80_1234_5678)
            #expect(sr.rtpTimestamp == 123_456)
            #expect(sr.packetCount == 1000)
            #expect(sr.octetCount == 1_000_000)
            #expect(sr.count == 1)
            #expect(sr.reportBlock(at: 0) == Self.block)
            #expect(sr.reportBlock(at: 1) == nil)
        }
    }

    @Test func writesTheSameSenderReport() {
        let bytes = rtpWritten(capacity: 100) { out in
            SenderReport.write(into: out, ssrc: 0x1122_3344, ntpTimestamp: 0xE54D_2B80_1234_5678, rtpTimestamp: 123_456,
                               packetCount: 1000, octetCount: 1_000_000, block: Self.block)
        }
        #expect(bytes == Self.senderReport)
    }

    @Test func senderReportWithoutBlocksIs28Bytes() {
        let bytes = rtpWritten(capacity: 100) { out in
            SenderReport.write(into: out, ssrc: 1, ntpTimestamp: 2, rtpTimestamp: 3, packetCount: 4, octetCount: 5)
        }
        #expect(bytes == rtpBytes("80 C8 00 06  00 00 00 01  00 00 00 00 00 00 00 02  00 00 00 03  00 00 00 04  00 00 00 05"))
    }

    @Test func senderReportWhoseBlocksDoNotFitIsRejected() {
        var bytes = Self.senderReport
        bytes[0] = 0x82  // RC=2 but room for one block
        bytes.withUnsafeBytes { raw in
            guard let packet = RTCPPacketView(raw) else { Issue.record("header did not parse"); return }
            #expect(SenderReport(parsing: packet) == nil)
        }
    }

    @Test func receiverReportRoundTrips() {
        let expected = rtpBytes("""
            81 C9 00 07  AA BB CC DD
            55 66 77 88  40 FF FF FE  00 01 00 10  00 00 00 20  2B 80 12 34  00 01 80 00
            """)
        let bytes = rtpWritten(capacity: 64) { out in
            ReceiverReport.write(into: out, senderSSRC: 0xAABB_CCDD, block: Self.block)
        }
        #expect(bytes == expected)
        expected.withUnsafeBytes { raw in
            guard let packet = RTCPPacketView(raw), let rr = ReceiverReport(parsing: packet) else {
                Issue.record("did not parse"); return
            }
            #expect(rr.senderSSRC == 0xAABB_CCDD && rr.count == 1)
            #expect(rr.reportBlock(at: 0) == Self.block)
        }
    }

    @Test func emptyReceiverReportIsEightBytes() {
        let bytes = rtpWritten(capacity: 64) { out in ReceiverReport.write(into: out, senderSSRC: 7, block: nil) }
        #expect(bytes == rtpBytes("80 C9 00 01  00 00 00 07"))
    }

    @Test func receiverReportWithSeveralBlocks() {
        let blocks = [Self.block, ReportBlock(ssrc: 9, fractionLost: 0, cumulativeLost: 0, highestSequence: 1, jitter: 0,
                                              lastSR: 0, delaySinceLastSR: 0)]
        let bytes = blocks.withUnsafeBufferPointer { list in
            rtpWritten(capacity: 100) { ReceiverReport.write(into: $0, senderSSRC: 1, blocks: list) }
        }
        #expect(bytes.count == 56 && bytes[0] == 0x82)
        bytes.withUnsafeBytes { raw in
            let rr = RTCPPacketView(raw).flatMap(ReceiverReport.init(parsing:))
            #expect(rr?.reportBlock(at: 1)?.ssrc == 9)
        }
    }

    @Test func cumulativeLostIsA24BitSignedNumberClampedOnWrite() {
        var block = Self.block
        block.cumulativeLost = 10_000_000
        let bytes = rtpWritten(capacity: 24) { block.serialize(into: $0) }
        #expect(Array(bytes[5..<8]) == [0x7F, 0xFF, 0xFF])
        block.cumulativeLost = -10_000_000
        let negative = rtpWritten(capacity: 24) { block.serialize(into: $0) }
        #expect(Array(negative[5..<8]) == [0x80, 0x00, 0x00])
        negative.withUnsafeBytes { #expect(ReportBlock(parsing: $0)?.cumulativeLost == -0x80_0000) }
    }

    @Test func writersReturnZeroWhenTheBufferIsTooSmall() {
        #expect(rtpWritten(capacity: 51) { out in
            SenderReport.write(into: out, ssrc: 1, ntpTimestamp: 2, rtpTimestamp: 3, packetCount: 4, octetCount: 5, block: Self.block)
        }.isEmpty)
        #expect(rtpWritten(capacity: 7) { ReceiverReport.write(into: $0, senderSSRC: 7, block: nil) }.isEmpty)
    }

    // MARK: SDES and BYE (RFC 3550 §6.5, §6.6)

    @Test func sdesCnameChunkIsNullTerminatedAndPadded() {
        let cname = Array("abcd".utf8)
        let bytes = cname.withUnsafeBytes { name in
            rtpWritten(capacity: 64) { SDES.writeCname(into: $0, ssrc: 0x1122_3344, cname: name) }
        }
        // 4 text bytes + type + length = 6, then at least one null octet: padded to 8.
        #expect(bytes == rtpBytes("81 CA 00 03  11 22 33 44  01 04 61 62  63 64 00 00"))
    }

    @Test func sdesWhoseTextEndsOnABoundaryStillGetsANullWord() {
        let cname = Array("abcdef".utf8)
        let bytes = cname.withUnsafeBytes { name in
            rtpWritten(capacity: 64) { SDES.writeCname(into: $0, ssrc: 1, cname: name) }
        }
        #expect(bytes == rtpBytes("81 CA 00 04  00 00 00 01  01 06 61 62  63 64 65 66  00 00 00 00"))
        bytes.withUnsafeBytes { raw in
            guard let packet = RTCPPacketView(raw), let found = SDES.firstCname(in: packet) else {
                Issue.record("did not parse"); return
            }
            #expect(found.ssrc == 1 && Array(found.cname) == cname)
        }
    }

    @Test func byeListsItsSsrcsAndReason() {
        rtpBytes("82 CB 00 04  11 22 33 44  55 66 77 88  04 62 79 65  21 00 00 00").withUnsafeBytes { raw in
            guard let packet = RTCPPacketView(raw), let bye = Bye(parsing: packet) else { Issue.record("did not parse"); return }
            #expect(bye.count == 2)
            #expect(bye.ssrc(at: 0) == 0x1122_3344 && bye.ssrc(at: 1) == 0x5566_7788 && bye.ssrc(at: 2) == nil)
            #expect(bye.reason.map(Array.init) == Array("bye!".utf8))
        }
        #expect(rtpWritten(capacity: 8) { Bye.write(into: $0, ssrc: 0x1122_3344) } == rtpBytes("81 CB 00 01  11 22 33 44"))
    }

    @Test func byeWithMoreSsrcsThanBytesIsRejected() {
        rtpBytes("83 CB 00 01  11 22 33 44").withUnsafeBytes { raw in
            #expect(RTCPPacketView(raw).flatMap(Bye.init(parsing:)) == nil)
        }
    }
}
