import CFuzzDriver
import Glibc
import RTP

// libFuzzer target: what the SFU reads from every decrypted RTP packet (RFC 3550 §5.1, header
// extensions RFC 8285), the keyframe detectors for VP8 (RFC 7741), VP9 (RFC 9628) and H.264
// (RFC 6184), RTX (RFC 4588), and the per-subscriber rewrites done in place on a copy: header
// fields and the VP8 PictureID/TL0PICIDX. After a rewrite the packet must still parse, with the
// same lengths: a rewrite that moved a boundary would corrupt every subscriber's stream.

nonisolated(unsafe) private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 8)

func fuzzRTP(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    guard let packet = RTPPacketView(bytes) else { return 0 }
    precondition(packet.headerLength + packet.payloadLength + packet.paddingLength == size, "lengths do not add up")
    _ = packet.marker; _ = packet.payloadType; _ = packet.sequenceNumber; _ = packet.timestamp; _ = packet.ssrc
    for index in 0..<packet.csrcCount { _ = packet.csrc(at: index) }
    for id in UInt8(1)...UInt8(255) {
        guard let range = packet.extensionElementRange(id: id) else { continue }
        precondition(range.lowerBound >= packet.extensionOffset && range.upperBound <= packet.extensionOffset + packet.extensionLength,
                     "an extension element outside the extension block")
        if let element = packet.extensionElement(id: id) {
            _ = AudioLevel(element)
            _ = AbsSendTime.parse(element)
        }
    }
    let payload = packet.payload
    _ = KeyframeDetector.vp8(payload)
    _ = KeyframeDetector.vp9(payload)
    _ = KeyframeDetector.h264(payload)
    _ = RTXPacket.originalSequenceNumber(payload: payload)
    _ = RTXPacket.originalPayload(payload: payload)

    let copy = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<size])
    copy.copyMemory(from: bytes)
    RTPPacketView.rewrite(copy, payloadType: 96, sequenceNumber: 0xFFFF, timestamp: 0xFFFF_FFFF, ssrc: 0x1234_5678)
    if let descriptor = VP8Descriptor(payload) {
        _ = descriptor.beginsKeyframe(in: payload)
        let payloadCopy = UnsafeMutableRawBufferPointer(rebasing: copy[packet.headerLength..<(packet.headerLength + packet.payloadLength)])
        precondition(VP8Descriptor.rewrite(payloadCopy, pictureId: 0x7FFF, tl0PicIdx: 0xFF), "a parsed descriptor did not rewrite")
        let again = VP8Descriptor(UnsafeRawBufferPointer(payloadCopy))
        precondition(again?.descriptorLength == descriptor.descriptorLength, "the rewrite changed the descriptor's length")
    }
    let rewritten = RTPPacketView(UnsafeRawBufferPointer(copy))
    precondition(rewritten?.headerLength == packet.headerLength && rewritten?.payloadLength == packet.payloadLength,
                 "the rewrite changed the packet's layout")
    return 0
}

@main
enum RTPFuzz {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzRTP))
    }
}
