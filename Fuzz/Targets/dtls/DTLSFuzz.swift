import CFuzzDriver
import Glibc
import DTLS

// libFuzzer target: DTLS records from a peer (RFC 6347, RFC 9147 record layer; the
// use_srtp extension, RFC 5764 §4.1) read by a server-role `DTLSSession`, as every ICE-checked
// 5-tuple's first datagrams are. The input is a sequence of datagrams, each a 2-byte big-endian
// length and its bytes; between datagrams the retransmission timer may fire. One certificate
// and context for the whole run (as in the server), a fresh session per input.

private let context: DTLSContext = {
    do {
        return try DTLSContext(certificate: try DTLSCertificate.generate(commonName: "fuzz"))
    } catch {
        fatalError("harness: \(error)")
    }
}()
private let peerFingerprint = DTLSFingerprint(certificateDER: Array(repeating: 0x30, count: 64))

func fuzzDTLS(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    guard let session = try? DTLSSession(context: context, role: .server, remoteFingerprints: [peerFingerprint],
                                         initialRetransmissionTimeout: .milliseconds(10), maximumRetransmissions: 2)
    else { fatalError("harness: session") }
    var now = ContinuousClock.now
    _ = session.start(now: now)
    let input = UnsafeRawBufferPointer(start: data, count: size)
    var offset = 0
    while offset + 2 <= size {
        let length = Int(input[offset]) << 8 | Int(input[offset + 1])
        offset += 2
        let datagram = UnsafeRawBufferPointer(rebasing: input[offset..<min(size, offset + length)])
        offset += datagram.count
        let output = session.receive(datagram: datagram, now: now)
        for reply in output.datagrams { precondition(reply.count <= session.mtu + 64, "a datagram over the MTU") }
        if case .connected = output.event { preconditionFailure("connected with a peer whose certificate cannot match") }
        if let deadline = session.timerDeadline, length & 1 == 1 {
            now = deadline
            _ = session.handleTimeout(now: now)
        }
    }
    _ = session.close()
    return 0
}

@main
enum DTLSFuzz {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzDTLS))
    }
}
