import CFuzzDriver
import Glibc
import Crypto
import ICE

// libFuzzer target: STUN parsing (RFC 8489 §5, §14) and the ICE-lite agent's handling of a
// Binding request (RFC 8445 §7.3). A fresh agent per input, with one transport whose
// credentials the harness knows: an input that parses and carries MESSAGE-INTEGRITY is fed a
// second time re-signed with that key, so the fuzzer reaches the code past authentication
// (path validation, nomination, USE-CANDIDATE, role conflicts) and not only the 401.

private let credentials = ICECredentials(ufrag: "fuzz", password: "fuzzfuzzfuzzfuzzfuzzfuzz")
nonisolated(unsafe) private var response: [UInt8] = []

func fuzzSTUN(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let start = ContinuousClock.now
    var agent = ICELiteAgent()
    guard let id = agent.addTransport(local: credentials, remoteUfrag: "peer", now: start) else { fatalError("harness") }
    let path = FiveTuple(remote: TransportAddress(ipv4: 0xC000_0201, port: 5000), local: TransportAddress(ipv4: 0x7F00_0001, port: 7882))

    if let view = try? STUNMessageView(parsing: bytes) {
        _ = view.hasValidFingerprint
        _ = view.hasUnknownComprehensionRequired
        var unknown: [UInt16] = []
        view.unknownComprehensionRequired(into: &unknown)
        try? view.forEachAttribute { _, _ in }
    }
    _ = agent.handleSTUN(bytes, from: path, now: start, response: &response)

    if let message = try? STUNMessage(parsing: bytes), message.attribute(.messageIntegrity) != nil,
       let signed = try? message.serialized(integrityKey: credentials.key, fingerprint: message.attribute(.fingerprint) != nil) {
        _ = try? STUNMessage(parsing: signed)
        signed.withUnsafeBytes { raw in
            // Twice, the second from another address and later: a known path, then a move.
            _ = agent.handleSTUN(raw, from: path, now: start, response: &response)
            var moved = path
            moved.remote = TransportAddress(ipv4: 0xC000_0202, port: 6000)
            _ = agent.handleSTUN(raw, from: moved, now: start + .seconds(7), response: &response)
        }
        _ = agent.expireConsent(now: start + .seconds(60))
    }
    agent.removeTransport(id)
    return 0
}

@main
enum STUNFuzz {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzSTUN))
    }
}
