import CodecTestSupport
import Testing
@testable import RTP

@Suite struct RTPExtensionValueTests {
    @Test func absSendTimeIsSixPointEighteenFixedPointSeconds() {
        #expect(AbsSendTime.value(microsecondsSinceStart: 0) == 0)
        #expect(AbsSendTime.value(microsecondsSinceStart: 1_000_000) == 1 << 18)
        #expect(AbsSendTime.value(microsecondsSinceStart: 1_500_000) == 3 << 17)
        #expect(AbsSendTime.value(microsecondsSinceStart: 250_000) == 1 << 16)
    }

    @Test func absSendTimeWrapsEvery64Seconds() {
        #expect(AbsSendTime.value(microsecondsSinceStart: 64_000_000) == 0)
        #expect(AbsSendTime.value(microsecondsSinceStart: 65_500_000) == 3 << 17)
        #expect(AbsSendTime.value(microsecondsSinceStart: 63_999_999) <= 0xFF_FFFF)
        #expect(AbsSendTime.value(microsecondsSinceStart: UInt64.max) <= 0xFF_FFFF)
    }

    @Test func absSendTimeConvertsBackToMicroseconds() {
        let v = AbsSendTime.value(microsecondsSinceStart: 12_345_678)
        let us = AbsSendTime.microseconds(value: v)
        #expect(us <= 12_345_678 && 12_345_678 - us < 8)
    }

    @Test func audioLevelReadsTheVoiceFlagAndLevel() {
        // RFC 6464 §3: V in the top bit, the level in -dBov below it.
        let loudVoice: [UInt8] = [0x80 | 10]
        let silence: [UInt8] = [127]
        loudVoice.withUnsafeBytes { #expect(AudioLevel($0) == AudioLevel(voice: true, level: 10)) }
        silence.withUnsafeBytes { #expect(AudioLevel($0) == AudioLevel(voice: false, level: 127)) }
        [UInt8]().withUnsafeBytes { #expect(AudioLevel($0) == nil) }
        #expect(AudioLevel(voice: true, level: 10).byte == 0x8A)
    }

    @Test func rtxPayloadStartsWithTheOriginalSequenceNumber() {
        let payload: [UInt8] = [0xBE, 0xEF, 1, 2, 3]
        payload.withUnsafeBytes { raw in
            #expect(RTXPacket.originalSequenceNumber(payload: raw) == 0xBEEF)
            #expect(RTXPacket.originalPayload(payload: raw).map(Array.init) == [1, 2, 3])
        }
        [UInt8(0xBE)].withUnsafeBytes { raw in
            #expect(RTXPacket.originalSequenceNumber(payload: raw) == nil)
        }
    }
}
