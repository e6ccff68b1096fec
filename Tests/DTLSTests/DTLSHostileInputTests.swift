@testable import DTLS
import Testing

@Suite("hostile DTLS input")
struct DTLSHostileInputTests {
    /// Deterministic pseudo-random bytes (SplitMix64), so a failure can be replayed.
    struct Bytes {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func datagram() -> [UInt8] {
            let count = Int(next() % 1500) + 1
            var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) }
            bytes[0] = 20 + UInt8(next() % 44)  // looks like DTLS to the RFC 7983 demux
            if count > 2, next() % 2 == 0 { bytes[1] = 0xFE; bytes[2] = 0xFD }  // DTLS 1.2 version
            return bytes
        }
    }

    @Test("random datagrams before and after the handshake neither crash nor break the session")
    func garbageIsDropped() throws {
        let (client, server) = try makeSessions()
        var random = Bytes(state: 42)
        for _ in 0..<300 {
            _ = server.receive(datagram: random.datagram(), now: .now)
        }
        print("server after 300 random datagrams: \(server.state)")
        if case .failed = server.state {
            // OpenSSL may treat a malformed ClientHello as fatal; the session then says so
            // and ignores everything after, which is also acceptable. Start a fresh pair.
            let fresh = try makeSessions()
            let run = runHandshake(client: fresh.client, server: fresh.server)
            #expect(run.serverEvents.first?.keyingMaterial != nil)
            return
        }
        let run = runHandshake(client: client, server: server)
        #expect(run.serverEvents.first?.keyingMaterial != nil)

        for _ in 0..<300 {
            let output = server.receive(datagram: random.datagram(), now: .now)
            #expect(output.event == nil || output.event?.failure != nil)
        }
        // An empty datagram is ignored.
        #expect(server.receive(datagram: [], now: .now).datagrams.isEmpty)
    }

    @Test("a session that failed ignores whatever arrives afterwards")
    func failedSessionIsInert() throws {
        let (client, server) = try makeSessions(serverExpects: [TestCertificates.stranger])
        _ = runHandshake(client: client, server: server)
        guard case .failed = server.state else {
            Issue.record("expected the server to fail, got \(server.state)")
            return
        }
        var random = Bytes(state: 7)
        let output = server.receive(datagram: random.datagram(), now: .now)
        #expect(output.datagrams.isEmpty && output.event == nil)
        #expect(server.handleTimeout(now: .now).datagrams.isEmpty)
    }
}
