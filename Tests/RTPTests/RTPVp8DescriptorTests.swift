import CodecTestSupport
import Testing
@testable import RTP

@Suite struct RTPVp8DescriptorTests {
    @Test func parsesAllOptionalFields() {
        // X=1 N=1 S=1 PID=0 | I L T K | M=1 PictureID 0x1234 | TL0PICIDX 0x56 | TID=2 Y=1 KEYIDX=3
        rtpBytes("B0 F0 92 34 56 A3  50").withUnsafeBytes { raw in
            guard let d = VP8Descriptor(raw) else { Issue.record("did not parse"); return }
            #expect(d.startOfPartition && d.partitionIndex == 0 && d.nonReference)
            #expect(d.pictureId == 0x1234 && d.pictureIdIs15Bit)
            #expect(d.tl0PicIdx == 0x56)
            #expect(d.temporalLayer == 2 && d.layerSync)
            #expect(d.keyIndex == 3)
            #expect(d.descriptorLength == 6)
            #expect(d.pictureIdOffset == 2 && d.tl0PicIdxOffset == 4)
        }
    }

    @Test func parsesASevenBitPictureId() {
        rtpBytes("90 80 7F  50").withUnsafeBytes { raw in
            let d = VP8Descriptor(raw)
            #expect(d?.pictureId == 0x7F && d?.pictureIdIs15Bit == false && d?.descriptorLength == 3)
        }
    }

    @Test func withoutExtensionTheDescriptorIsOneByte() {
        rtpBytes("12 50").withUnsafeBytes { raw in
            let d = VP8Descriptor(raw)
            #expect(d?.partitionIndex == 2 && d?.pictureId == nil && d?.tl0PicIdx == nil && d?.descriptorLength == 1)
        }
    }

    @Test func truncatedDescriptorsDoNotParse() {
        for hex in ["", "90", "90 80", "90 80 92", "90 C0 12", "90 20"] {
            rtpBytes(hex).withUnsafeBytes { raw in #expect(VP8Descriptor(raw) == nil, "\(hex)") }
        }
    }

    @Test func rewriteKeepsThe15BitWidth() {
        var bytes = rtpBytes("90 C0 92 34 56  50 43")
        bytes.withUnsafeMutableBytes { raw in
            #expect(VP8Descriptor.rewrite(raw, pictureId: 0xFFFF, tl0PicIdx: 9))
        }
        // The 15 low bits with M kept set; TL0PICIDX replaced; the payload untouched.
        #expect(bytes == rtpBytes("90 C0 FF FF 09  50 43"))
        bytes.withUnsafeBytes { #expect(VP8Descriptor($0)?.pictureId == 0x7FFF) }
    }

    @Test func rewriteKeepsThe7BitWidth() {
        var bytes = rtpBytes("90 80 05  50 43")
        bytes.withUnsafeMutableBytes { raw in
            #expect(VP8Descriptor.rewrite(raw, pictureId: 0x0181, tl0PicIdx: 9))
        }
        // 0x181 keeps its low 7 bits (0x01); there is no TL0PICIDX to rewrite.
        #expect(bytes == rtpBytes("90 80 01  50 43"))
    }

    @Test func rewriteWithNilLeavesFieldsAlone() {
        var bytes = rtpBytes("90 C0 92 34 56  50")
        bytes.withUnsafeMutableBytes { raw in
            #expect(VP8Descriptor.rewrite(raw, pictureId: nil, tl0PicIdx: 7))
        }
        #expect(bytes == rtpBytes("90 C0 92 34 07  50"))
    }

    @Test func rewriteOfAMalformedDescriptorChangesNothing() {
        var bytes = rtpBytes("90 C0 92")
        bytes.withUnsafeMutableBytes { raw in
            #expect(!VP8Descriptor.rewrite(raw, pictureId: 1, tl0PicIdx: 1))
        }
        #expect(bytes == rtpBytes("90 C0 92"))
    }
}
