import CodecTestSupport
import Testing
@testable import RTP

@Suite struct RTPSequenceNumberTests {
    @Test func newerWithinHalfTheSpace() {
        #expect(isNewer(UInt16(2), than: 1))
        #expect(!isNewer(UInt16(1), than: 2))
        #expect(!isNewer(UInt16(5), than: 5))
        #expect(isNewer(UInt16(0x7FFF), than: 0))
    }

    @Test func zeroIsNewerThan65535() {
        #expect(isNewer(UInt16(0), than: 65535))
        #expect(!isNewer(UInt16(65535), than: 0))
        #expect(isNewer(UInt16(10), than: 65500))
    }

    @Test func exactlyHalfApartIsDecidedOneWayOnly() {
        #expect(isNewer(UInt16(0x8000), than: 0) != isNewer(UInt16(0), than: 0x8000))
        #expect(isNewer(UInt32(0x8000_0000), than: 0) != isNewer(UInt32(0), than: 0x8000_0000))
    }

    @Test func timestampsWrapToo() {
        #expect(isNewer(UInt32(5), than: 0xFFFF_FFF0))
        #expect(!isNewer(UInt32(0xFFFF_FFF0), than: 5))
    }

    @Test func unwrapperCountsOnAcrossTheWrap() {
        var u = SequenceUnwrapper()
        #expect(u.unwrap(65534) == 65534)
        #expect(u.unwrap(65535) == 65535)
        #expect(u.unwrap(0) == 65536)
        #expect(u.unwrap(1) == 65537)
        #expect(u.unwrap(65535) == 65535)  // reordered packet from before the wrap
        #expect(u.unwrap(2) == 65538)
    }

    @Test func unwrapperGoesBelowTheFirstValueForOlderPackets() {
        var u = SequenceUnwrapper()
        #expect(u.unwrap(0) == 0)
        #expect(u.unwrap(65535) == -1)
    }

    @Test func unwrapperFollowsManyWraps() {
        var u = SequenceUnwrapper()
        var last: Int64 = 0
        var s: UInt16 = 0
        for _ in 0..<(3 * 65536 / 1000) {
            s &+= 1000
            last = u.unwrap(s)
        }
        #expect(last == Int64(3 * 65536 / 1000) * 1000)
    }

    @Test func timestampUnwrapperCrossesTheWrap() {
        var u = TimestampUnwrapper()
        #expect(u.unwrap(0xFFFF_FF00) == 0xFFFF_FF00)
        #expect(u.unwrap(0x100) == 0x1_0000_0100)
    }
}
