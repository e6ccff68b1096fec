import CodecTestSupport
import Testing
@testable import RTCP

/// Random and mutated datagrams through the compound iterator and every RTCP parser: nothing may
/// trap (debug builds check every buffer subscript) and every packet view stays inside the datagram.
@Suite struct RTCPHostileInputTests {
    static let seeds: [[UInt8]] = [
        RTCPReportTests.senderReport + RTCPCompoundIteratorTests.sdes + RTCPCompoundIteratorTests.pli,
        rtpBytes("84 CE 00 06  00 00 00 01  00 00 00 00  11 22 33 44  07 00 00 00  55 66 77 88  09 00 00 00"),
        rtpBytes("81 CD 00 03  00 00 00 01  11 22 33 44  FF FE 00 43"),
        rtpBytes("8F CE 00 05  00 00 00 01  00 00 00 00  52 45 4D 42  01 0E DC 6C  11 22 33 44"),
        rtpBytes("82 CB 00 04  11 22 33 44  55 66 77 88  04 62 79 65  21 00 00 00"),
        RTCPTransportCCTests.handWorked,
        RTCPTransportCCTests.runLengthAndVector,
    ]

    @Test func twentyThousandRandomAndMutatedDatagramsNeverTrap() {
        var rng = SeededGenerator(seed: 0x5EED_0002)
        var packets = 0
        for iteration in 0..<20_000 {
            var bytes: [UInt8]
            if iteration % 2 == 0 {
                bytes = (0..<Int.random(in: 0...96, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                if bytes.count >= 4 {
                    bytes[0] = 0x80 | (bytes[0] & 0x3F)
                    bytes[1] = UInt8.random(in: 200...206, using: &rng)
                    bytes[2] = 0
                    bytes[3] = UInt8(bytes.count / 4) &- 1
                }
            } else {
                bytes = Self.seeds[Int.random(in: 0..<Self.seeds.count, using: &rng)]
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let i = Int.random(in: 0..<bytes.count, using: &rng)
                    bytes[i] ^= UInt8.random(in: 1...255, using: &rng)
                }
                bytes.removeLast(Int.random(in: 0...3, using: &rng))
            }
            bytes.withUnsafeBytes { raw in
                var total = 0
                for p in RTCPCompoundIterator(raw) {
                    packets += 1
                    total += p.bytes.count
                    if let sr = SenderReport(parsing: p) { for i in 0...sr.count { _ = sr.reportBlock(at: i) } }
                    if let rr = ReceiverReport(parsing: p) { for i in 0...rr.count { _ = rr.reportBlock(at: i) } }
                    _ = SDES.firstCname(in: p)
                    if let bye = Bye(parsing: p) { for i in 0...bye.count { _ = bye.ssrc(at: i) } }
                    _ = PictureLossIndication(parsing: p)
                    if let fir = FullIntraRequest(parsing: p) { for i in 0...fir.count { _ = FullIntraRequest.entry(at: i, in: p) } }
                    GenericNACK(parsing: p)?.forEachLostSequence { _ in }
                    if let remb = REMB(parsing: p) { for i in 0...remb.ssrcCount { _ = remb.ssrc(at: i) } }
                    TransportCCFeedback(parsing: p)?.forEachPacket { _, _ in }
                }
                #expect(total <= raw.count)
            }
        }
        #expect(packets > 5000)  // the loop did reach the packet parsers
    }
}
