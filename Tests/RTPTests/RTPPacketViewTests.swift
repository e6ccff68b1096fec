import CodecTestSupport
import Testing
@testable import RTP

@Suite struct RTPPacketViewTests {
    /// RFC 3550 §5.1 fixed header: V=2, M=1, PT=96, seq 0x1234, ts 0xDEADBEEF, SSRC 0x11223344.
    static let minimal = rtpBytes("80 E0 12 34  DE AD BE EF  11 22 33 44  01 02 03")

    @Test func parsesTheFixedHeaderFields() {
        Self.minimal.withUnsafeBytes { raw in
            guard let p = RTPPacketView(raw) else { Issue.record("did not parse"); return }
            #expect(p.marker)
            #expect(p.payloadType == 96)
            #expect(p.sequenceNumber == 0x1234)
            #expect(p.timestamp == 0xDEAD_BEEF)
            #expect(p.ssrc == 0x1122_3344)
            #expect(p.csrcCount == 0)
            #expect(p.headerLength == 12)
            #expect(p.payloadLength == 3)
            #expect(p.paddingLength == 0)
            #expect(Array(p.payload) == [1, 2, 3])
            #expect(p.extensionProfile == nil)
        }
    }

    @Test func aHeaderWithoutPayloadIsValid() {
        Array(Self.minimal.prefix(12)).withUnsafeBytes { raw in
            #expect(RTPPacketView(raw)?.payloadLength == 0)
        }
    }

    @Test func rejectsFewerThanTwelveBytes() {
        Array(Self.minimal.prefix(11)).withUnsafeBytes { raw in
            #expect(RTPPacketView(raw) == nil)
        }
    }

    @Test func rejectsVersionsOtherThanTwo() {
        for first: UInt8 in [0x00, 0x40, 0xC0] {
            var bytes = Self.minimal
            bytes[0] = first
            bytes.withUnsafeBytes { raw in #expect(RTPPacketView(raw) == nil) }
        }
    }

    @Test func skipsTheCsrcList() {
        // CC=2: two CSRCs after the SSRC, then the payload.
        let bytes = rtpBytes("82 60 00 01  00 00 00 02  00 00 00 03  AA AA AA AA  BB BB BB BB  77")
        bytes.withUnsafeBytes { raw in
            guard let p = RTPPacketView(raw) else { Issue.record("did not parse"); return }
            #expect(p.csrcCount == 2)
            #expect(p.csrc(at: 0) == 0xAAAA_AAAA)
            #expect(p.csrc(at: 1) == 0xBBBB_BBBB)
            #expect(p.csrc(at: 2) == nil)
            #expect(p.headerLength == 20)
            #expect(Array(p.payload) == [0x77])
        }
    }

    @Test func rejectsACsrcListPastTheEnd() {
        rtpBytes("83 60 00 01  00 00 00 02  00 00 00 03  AA AA AA AA  BB BB BB BB").withUnsafeBytes { raw in
            #expect(RTPPacketView(raw) == nil)
        }
    }

    @Test func paddingIsExcludedFromThePayload() {
        // P=1: the last octet counts the padding including itself (RFC 3550 §5.1).
        rtpBytes("A0 60 00 01  00 00 00 02  00 00 00 03  01 02 03  00 00 03").withUnsafeBytes { raw in
            guard let p = RTPPacketView(raw) else { Issue.record("did not parse"); return }
            #expect(p.paddingLength == 3)
            #expect(p.payloadLength == 3)
            #expect(Array(p.payload) == [1, 2, 3])
        }
    }

    @Test func aPaddingOnlyPacketHasAnEmptyPayload() {
        rtpBytes("A0 60 00 01  00 00 00 02  00 00 00 03  00 00 00 04").withUnsafeBytes { raw in
            #expect(RTPPacketView(raw)?.payloadLength == 0)
        }
    }

    @Test func rejectsPaddingLongerThanThePacketOrZero() {
        rtpBytes("A0 60 00 01  00 00 00 02  00 00 00 03  01 02 05").withUnsafeBytes { raw in
            #expect(RTPPacketView(raw) == nil)
        }
        rtpBytes("A0 60 00 01  00 00 00 02  00 00 00 03  01 02 00").withUnsafeBytes { raw in
            #expect(RTPPacketView(raw) == nil)
        }
        rtpBytes("A0 60 00 01  00 00 00 02  00 00 00 03").withUnsafeBytes { raw in
            #expect(RTPPacketView(raw) == nil)
        }
    }

    /// RFC 8285 §4.2's example: one-byte form, elements of 1, 2 and 4 bytes with two padding bytes.
    static let oneByteExample = rtpBytes("""
        90 60 00 01  00 00 00 02  00 00 00 03
        BE DE 00 03  10 AA 21 BB  BB 00 00 33  CC CC CC CC
        99
        """)

    @Test func readsOneByteFormExtensionElements() {
        Self.oneByteExample.withUnsafeBytes { raw in
            guard let p = RTPPacketView(raw) else { Issue.record("did not parse"); return }
            #expect(p.extensionProfile == 0xBEDE)
            #expect(p.headerLength == 28)
            #expect(p.extensionElement(id: 1).map(Array.init) == [0xAA])
            #expect(p.extensionElement(id: 2).map(Array.init) == [0xBB, 0xBB])
            #expect(p.extensionElement(id: 3).map(Array.init) == [0xCC, 0xCC, 0xCC, 0xCC])
            #expect(p.extensionElement(id: 4) == nil)
            #expect(Array(p.payload) == [0x99])
        }
    }

    /// RFC 8285 §4.3's example: two-byte form, a zero-length element, a 1-byte one, padding, a 4-byte one.
    @Test func readsTwoByteFormExtensionElements() {
        let bytes = rtpBytes("""
            90 60 00 01  00 00 00 02  00 00 00 03
            10 00 00 03  01 00 02 01  AA 00 03 04  CC CC CC CC
            """)
        bytes.withUnsafeBytes { raw in
            guard let p = RTPPacketView(raw) else { Issue.record("did not parse"); return }
            #expect(p.extensionElement(id: 1).map(Array.init) == [])
            #expect(p.extensionElement(id: 2).map(Array.init) == [0xAA])
            #expect(p.extensionElement(id: 3).map(Array.init) == [0xCC, 0xCC, 0xCC, 0xCC])
            #expect(p.extensionElement(id: 200) == nil)
            #expect(p.payloadLength == 0)
        }
    }

    @Test func twoByteFormAllowsIdsAbove14() {
        let bytes = rtpBytes("90 60 00 01  00 00 00 02  00 00 00 03  10 05 00 01  C8 01 55 00")
        bytes.withUnsafeBytes { raw in
            #expect(RTPPacketView(raw)?.extensionElement(id: 200).map(Array.init) == [0x55])
        }
    }

    @Test func oneByteFormStopsAtId15() {
        let bytes = rtpBytes("90 60 00 01  00 00 00 02  00 00 00 03  BE DE 00 01  F0 20 AA 00")
        bytes.withUnsafeBytes { raw in
            #expect(RTPPacketView(raw)?.extensionElement(id: 2) == nil)
        }
    }

    @Test func anElementRunningPastTheBlockIsAbsent() {
        // id 1 claims 16 bytes in a 4-byte block.
        let bytes = rtpBytes("90 60 00 01  00 00 00 02  00 00 00 03  BE DE 00 01  1F AA AA AA  AA AA AA AA")
        bytes.withUnsafeBytes { raw in
            guard let p = RTPPacketView(raw) else { Issue.record("did not parse"); return }
            #expect(p.extensionElement(id: 1) == nil)
        }
    }

    @Test func rejectsAnExtensionLengthPastTheEnd() {
        rtpBytes("90 60 00 01  00 00 00 02  00 00 00 03  BE DE 00 02  10 AA 00 00").withUnsafeBytes { raw in
            #expect(RTPPacketView(raw) == nil)
        }
        rtpBytes("90 60 00 01  00 00 00 02  00 00 00 03  BE DE").withUnsafeBytes { raw in
            #expect(RTPPacketView(raw) == nil)
        }
    }

    @Test func unknownExtensionProfilesHaveNoElements() {
        rtpBytes("90 60 00 01  00 00 00 02  00 00 00 03  AB CD 00 01  10 AA 00 00").withUnsafeBytes { raw in
            guard let p = RTPPacketView(raw) else { Issue.record("did not parse"); return }
            #expect(p.extensionProfile == 0xABCD)
            #expect(p.extensionElement(id: 1) == nil)
            #expect(p.headerLength == 20)
        }
    }

    @Test func csrcsExtensionAndPaddingTogether() {
        let bytes = rtpBytes("""
            B1 60 00 01  00 00 00 02  00 00 00 03  AA AA AA AA
            BE DE 00 01  10 AA 00 00  01 02  00 02
            """)
        bytes.withUnsafeBytes { raw in
            guard let p = RTPPacketView(raw) else { Issue.record("did not parse"); return }
            #expect(p.headerLength == 24)
            #expect(p.paddingLength == 2)
            #expect(Array(p.payload) == [1, 2])
            #expect(p.extensionElement(id: 1).map(Array.init) == [0xAA])
        }
    }

    @Test func rewriteChangesTheForwardedFieldsAndKeepsTheMarker() {
        var bytes = Self.minimal
        bytes.withUnsafeMutableBytes { raw in
            #expect(RTPPacketView.rewrite(raw, payloadType: 100, sequenceNumber: 7, timestamp: 8, ssrc: 9))
        }
        #expect(bytes == rtpBytes("80 E4 00 07  00 00 00 08  00 00 00 09  01 02 03"))
    }

    @Test func extensionElementRangeLocatesTheValueForInPlaceRewrite() {
        var bytes = Self.oneByteExample
        let range = bytes.withUnsafeBytes { RTPPacketView($0)?.extensionElementRange(id: 2) }
        #expect(range == 19..<21)
        if let range { bytes[range.lowerBound] = 0x01 }
        bytes.withUnsafeBytes { raw in
            #expect(RTPPacketView(raw)?.extensionElement(id: 2).map(Array.init) == [0x01, 0xBB])
        }
    }
}
