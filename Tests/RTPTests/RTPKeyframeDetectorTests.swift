import CodecTestSupport
import Testing
@testable import RTP

@Suite struct RTPKeyframeDetectorTests {
    private func vp8(_ hex: String) -> Bool { rtpBytes(hex).withUnsafeBytes { KeyframeDetector.vp8($0) } }
    private func vp9(_ hex: String) -> Bool { rtpBytes(hex).withUnsafeBytes { KeyframeDetector.vp9($0) } }
    private func h264(_ hex: String) -> Bool { rtpBytes(hex).withUnsafeBytes { KeyframeDetector.h264($0) } }

    // VP8: descriptor X=1,S=1,PID=0 with a 15-bit PictureID, then the VP8 payload header whose
    // lowest bit P is 0 for a key frame (RFC 7741 §4.3), followed by the key frame start code.
    @Test func vp8KeyFrameStartIsDetected() {
        #expect(vp8("90 80 81 23  50 43 00 9D 01 2A 80 02 E0 01"))
        #expect(vp8("90 E0 81 23 05 40  50 43 00 9D 01 2A"))  // with TL0PICIDX and TID
        #expect(vp8("10  50 43 00 9D 01 2A"))  // minimal descriptor
    }

    @Test func vp8InterFrameIsNotAKeyFrame() {
        #expect(!vp8("90 80 81 24  31 10 00 00"))
    }

    @Test func vp8PacketsNotStartingPartitionZeroAreNotKeyFrames() {
        #expect(!vp8("80 80 81 23  50 43 00 9D 01 2A"))  // S=0: continuation
        #expect(!vp8("91 80 81 23  50 43 00 9D 01 2A"))  // PID=1
    }

    @Test func vp8TruncatedDescriptorIsNotAKeyFrame() {
        #expect(!vp8("90 80 81"))
        #expect(!vp8("90 80 81 23"))  // nothing after the descriptor
        #expect(!vp8(""))
    }

    // VP9 (RFC 9628 §4.2): I|P|L|F|B|E|V|Z, then PictureID, layer indices and TL0PICIDX.
    @Test func vp9NonFlexibleKeyFrameIsDetected() {
        // I=1 P=0 L=1 F=0 B=1 V=1: 0xAA, PictureID 15-bit, TID/U/SID/D=0, TL0PICIDX, SS...
        #expect(vp9("AA 80 01 00 00  18 02 80 01 E0 01 04 01"))
    }

    @Test func vp9FlexibleKeyFrameWithoutLayerIndicesIsDetected() {
        #expect(vp9("98 80 01  82 49 83 42 00"))  // I=1 F=1 B=1
    }

    @Test func vp9PredictedFrameIsNotAKeyFrame() {
        #expect(!vp9("E8 80 02 00 01  00 11 22"))  // P=1
    }

    @Test func vp9PacketNotBeginningAFrameIsNotAKeyFrame() {
        #expect(!vp9("A2 80 01 00 00  18 02"))  // B=0
    }

    @Test func vp9UpperSpatialLayerIsNotTheKeyFrameStart() {
        #expect(!vp9("AA 80 01 02 00  18 02"))  // SID=1
    }

    @Test func vp9TruncatedDescriptorIsNotAKeyFrame() {
        #expect(!vp9("AA 80"))
        #expect(!vp9("AA 80 01"))
        #expect(!vp9(""))
    }

    // H.264 (RFC 6184): the low five bits of the NAL header are the type.
    @Test func h264SingleIdrOrSpsNalIsAKeyFrame() {
        #expect(h264("65 88 84 00 33"))  // IDR slice
        #expect(h264("67 42 C0 1F DA"))  // SPS
        #expect(!h264("41 9A 02 03"))  // non-IDR slice
        #expect(!h264("68 CE 3C 80"))  // PPS alone
    }

    @Test func h264StapAWithSpsIsAKeyFrame() {
        // STAP-A (24) holding SPS (10 bytes) and PPS (4 bytes), RFC 6184 §5.7.1.
        #expect(h264("78  00 0A 67 42 C0 1F DA 01 40 16 EC 04  00 04 68 CE 3C 80"))
        #expect(!h264("78  00 02 06 05  00 03 41 9A 02"))  // SEI and a non-IDR slice
    }

    @Test func h264StapAWithABadSizeIsNotAKeyFrame() {
        #expect(!h264("78  00 20 67 42 C0"))
        #expect(!h264("78  00 00 67 42 C0"))
    }

    @Test func h264FuAStartOfIdrIsAKeyFrame() {
        #expect(h264("7C 85 88 84 00"))  // FU indicator NRI=3 type 28, FU header S=1 type 5
        #expect(!h264("7C 05 88 84 00"))  // middle fragment
        #expect(!h264("7C 45 88 84 00"))  // last fragment
        #expect(!h264("7C 81 9A 02"))  // start of a non-IDR slice
        #expect(!h264("7C"))
    }
}
