import CodecTestSupport
import Testing
@testable import RTP

/// Random and mutated bytes through every RTP parser: nothing may trap (debug builds check
/// every buffer subscript), and whatever parses must describe ranges inside the buffer.
@Suite struct RTPHostileInputTests {
    static let seeds: [[UInt8]] = [
        RTPPacketViewTests.oneByteExample,
        rtpBytes("90 60 00 01  00 00 00 02  00 00 00 03  10 00 00 03  01 00 02 01  AA 00 03 04  CC CC CC CC"),
        rtpBytes("B1 60 00 01  00 00 00 02  00 00 00 03  AA AA AA AA  BE DE 00 01  10 AA 00 00  01 02  00 02"),
        rtpBytes("80 60 00 01  00 00 00 02  00 00 00 03  B0 F0 92 34 56 A3  50 43 00 9D 01 2A"),
        rtpBytes("80 60 00 01  00 00 00 02  00 00 00 03  78 00 0A 67 42 C0 1F DA 01 40 16 EC 04 00 04 68 CE 3C 80"),
    ]

    @Test func twentyThousandRandomAndMutatedPacketsNeverTrap() {
        var rng = SeededGenerator(seed: 0x5EED_0001)
        var parsed = 0
        for iteration in 0..<20_000 {
            var bytes: [UInt8]
            if iteration % 2 == 0 {
                bytes = (0..<Int.random(in: 0...80, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                if !bytes.isEmpty, iteration % 4 == 0 { bytes[0] = 0x80 | (bytes[0] & 0x3F) }  // version 2 more often
            } else {
                bytes = Self.seeds[Int.random(in: 0..<Self.seeds.count, using: &rng)]
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let i = Int.random(in: 0..<bytes.count, using: &rng)
                    bytes[i] ^= UInt8.random(in: 1...255, using: &rng)
                }
                bytes.removeLast(Int.random(in: 0...4, using: &rng))
            }
            bytes.withUnsafeBytes { raw in
                if let p = RTPPacketView(raw) {
                    parsed += 1
                    #expect(p.headerLength + p.payloadLength + p.paddingLength == raw.count)
                    var touched = 0
                    for id in UInt8(0)...20 {
                        if let e = p.extensionElement(id: id) { touched &+= e.count }
                    }
                    _ = p.extensionElement(id: 255)
                    let payload = p.payload
                    _ = KeyframeDetector.vp8(payload)
                    _ = KeyframeDetector.vp9(payload)
                    _ = KeyframeDetector.h264(payload)
                    _ = VP8Descriptor(payload)
                    _ = RTXPacket.originalSequenceNumber(payload: payload)
                    _ = p.csrc(at: p.csrcCount - 1)
                    _ = touched
                }
                _ = KeyframeDetector.vp8(raw)
                _ = KeyframeDetector.vp9(raw)
                _ = KeyframeDetector.h264(raw)
                _ = AudioLevel(raw)
                _ = AbsSendTime.parse(raw)
            }
            var copy = bytes
            copy.withUnsafeMutableBytes { raw in
                _ = VP8Descriptor.rewrite(raw, pictureId: 0xFFFF, tl0PicIdx: 0xFF)
            }
            #expect(copy.count == bytes.count)
        }
        #expect(parsed > 1000)  // the loop did reach the deeper parsers
    }
}
