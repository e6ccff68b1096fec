import CFuzzDriver
import Glibc
import RTCP

// libFuzzer target: every RTCP parser the SFU runs on what subscribers and publishers send:
// compound packets (RFC 3550 §6.1, RFC 5761), SR/RR and their report blocks (§6.4), SDES CNAME
// (§6.5), BYE (§6.6), generic NACK (RFC 4585 §6.2.1), PLI (§6.3.1), FIR (RFC 5104 §4.3.1),
// REMB (draft-alvestrand-rmcat-remb) and transport-cc feedback
// (draft-holmer-rmcat-transport-wide-cc-extensions-01). The input also drives the transport-cc
// recorder as arrivals, and every feedback it writes must parse back covering what it says.

nonisolated(unsafe) private let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 1500, alignment: 8)

func fuzzRTCP(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    var iterator = RTCPCompoundIterator(bytes)
    while let packet = iterator.next() {
        precondition(packet.bytes.count >= 4 && packet.paddingLength <= packet.bytes.count - 4, "a packet view out of bounds")
        _ = packet.body
        switch packet.packetType {
        case RTCPPacketView.senderReport:
            if let report = SenderReport(parsing: packet) { for i in 0..<report.count { _ = report.reportBlock(at: i) } }
        case RTCPPacketView.receiverReport:
            if let report = ReceiverReport(parsing: packet) {
                for i in 0..<report.count {
                    guard let block = report.reportBlock(at: i) else { continue }
                    let written = block.serialize(into: out)
                    precondition(ReportBlock(parsing: UnsafeRawBufferPointer(rebasing: out[0..<written])) != nil, "a report block did not round-trip")
                }
            }
        case RTCPPacketView.sourceDescription:
            _ = SDES.firstCname(in: packet)
        case RTCPPacketView.goodbye:
            if let bye = Bye(parsing: packet) { for i in 0..<bye.count { _ = bye.ssrc(at: i) }; _ = bye.reason }
        case RTCPPacketView.transportFeedback:
            if let nack = GenericNACK(parsing: packet) {
                var lost = 0
                nack.forEachLostSequence { _ in lost += 1 }
                precondition(lost == nack.lostCount, "lostCount disagrees with the sequences listed")
            }
            if let feedback = TransportCCFeedback(parsing: packet) {
                var described = 0
                feedback.forEachPacket { _, _ in described += 1 }
                precondition(described == feedback.packetStatusCount, "feedback describes another number of packets than it counts")
            }
        case RTCPPacketView.payloadFeedback:
            _ = PictureLossIndication(parsing: packet)
            if let fir = FullIntraRequest(parsing: packet) { for i in 0..<fir.count { _ = FullIntraRequest.entry(at: i, in: packet) } }
            if let remb = REMB(parsing: packet) { for i in 0..<remb.ssrcCount { _ = remb.ssrc(at: i) } }
        default:
            break
        }
    }
    _ = iterator.isMalformed

    // The same bytes as arrivals: 2-byte sequence number, 2-byte time step in 250 µs.
    var recorder = TransportCCRecorder(capacity: 64)
    var now: Int64 = 1_000_000
    var offset = 0
    while offset + 4 <= size {
        let sequence = UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
        now += Int64(Int16(bitPattern: UInt16(bytes[offset + 2]) << 8 | UInt16(bytes[offset + 3]))) * 250
        recorder.record(sequence: sequence, arrivalMicroseconds: now)
        offset += 4
    }
    var rounds = 0
    while recorder.hasPendingFeedback && rounds < 64 {
        let length = recorder.writeFeedback(into: out, senderSSRC: 1, mediaSSRC: 2)
        guard length > 0 else { break }
        let written = UnsafeRawBufferPointer(rebasing: out[0..<length])
        guard let view = RTCPPacketView(written), let feedback = TransportCCFeedback(parsing: view) else {
            preconditionFailure("the recorder wrote feedback that does not parse")
        }
        var described = 0
        feedback.forEachPacket { _, _ in described += 1 }
        precondition(described == feedback.packetStatusCount, "written feedback is inconsistent")
        rounds += 1
    }
    return 0
}

@main
enum RTCPFuzz {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzRTCP))
    }
}
