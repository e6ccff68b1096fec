import CodecTestSupport
import Testing
@testable import RTP

@Suite struct RTPHeaderWriterTests {
    static let noAbs: (id: UInt8, value: UInt32) = (0, 0)
    static let noLevel: (id: UInt8, value: UInt8) = (0, 0)
    static let noTransport: (id: UInt8, value: UInt16) = (0, 0)
    static var noMid: (id: UInt8, value: UnsafeRawBufferPointer?) { (0, nil) }

    @Test func withoutExtensionsWritesTheTwelveByteFixedHeader() {
        let bytes = rtpWritten(capacity: 64) { out in
            RTPHeaderWriter.write(into: out, marker: true, payloadType: 111, sequenceNumber: 0xFFFF,
                                  timestamp: 0x0102_0304, ssrc: 0xCAFE_BABE, absSendTime: Self.noAbs,
                                  audioLevel: Self.noLevel, transportSequence: Self.noTransport, mid: Self.noMid)
        }
        #expect(bytes == rtpBytes("80 EF FF FF  01 02 03 04  CA FE BA BE"))
    }

    @Test func writesAllElementsInTheOneByteFormPaddedTo32Bits() {
        let mid: [UInt8] = Array("0".utf8)
        let bytes = mid.withUnsafeBytes { midBytes in
            rtpWritten(capacity: 64) { out in
                RTPHeaderWriter.write(into: out, marker: false, payloadType: 96, sequenceNumber: 1, timestamp: 2, ssrc: 3,
                                      absSendTime: (2, 0x12_3456), audioLevel: (1, 0x85),
                                      transportSequence: (3, 0xABCD), mid: (4, midBytes))
            }
        }
        // 4 + 2 + 3 + 2 = 11 element bytes, one byte of padding, length 3 words.
        #expect(bytes == rtpBytes("""
            90 60 00 01  00 00 00 02  00 00 00 03
            BE DE 00 03  22 12 34 56  10 85 31 AB  CD 40 30 00
            """))
    }

    @Test func outputParsesBackWithTheSameValues() {
        let mid: [UInt8] = Array("video-1".utf8)
        var buffer = [UInt8](repeating: 0xEE, count: 100)
        buffer.withUnsafeMutableBytes { out in
            let n = mid.withUnsafeBytes { midBytes in
                RTPHeaderWriter.write(into: out, marker: true, payloadType: 100, sequenceNumber: 65535, timestamp: 90000,
                                      ssrc: 42, absSendTime: (3, AbsSendTime.value(microsecondsSinceStart: 1_500_000)),
                                      audioLevel: Self.noLevel, transportSequence: (5, 777), mid: (9, midBytes))
            }
            #expect(n == 32)
            guard let p = RTPPacketView(UnsafeRawBufferPointer(rebasing: out[0..<(n + 4)])) else {
                Issue.record("did not parse"); return
            }
            #expect(p.headerLength == n)
            #expect(p.marker && p.payloadType == 100 && p.sequenceNumber == 65535)
            #expect(p.timestamp == 90000 && p.ssrc == 42)
            #expect(p.extensionElement(id: 3).flatMap(AbsSendTime.parse) == AbsSendTime.value(microsecondsSinceStart: 1_500_000))
            #expect(p.extensionElement(id: 5).map(Array.init) == [0x03, 0x09])
            #expect(p.extensionElement(id: 9).map(Array.init) == mid)
            #expect(p.extensionElement(id: 1) == nil)
            #expect(p.payloadLength == 4)
        }
    }

    @Test func returnsZeroWhenTheBufferIsTooSmall() {
        let n = rtpWritten(capacity: 19) { out in
            RTPHeaderWriter.write(into: out, marker: false, payloadType: 96, sequenceNumber: 1, timestamp: 2, ssrc: 3,
                                  absSendTime: (2, 1), audioLevel: Self.noLevel, transportSequence: Self.noTransport, mid: Self.noMid)
        }
        #expect(n.isEmpty)
    }

    @Test func omitsElementsWithIdsOutsideOneByteRangeAndOverlongMid() {
        let mid = [UInt8](repeating: 0x61, count: 17)
        let bytes = mid.withUnsafeBytes { midBytes in
            rtpWritten(capacity: 64) { out in
                RTPHeaderWriter.write(into: out, marker: false, payloadType: 96, sequenceNumber: 1, timestamp: 2, ssrc: 3,
                                      absSendTime: (15, 1), audioLevel: Self.noLevel,
                                      transportSequence: Self.noTransport, mid: (4, midBytes))
            }
        }
        #expect(bytes.count == 12)
        #expect(bytes.first == 0x80)
    }
}
