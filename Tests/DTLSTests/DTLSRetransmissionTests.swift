@testable import DTLS
import Testing

@Suite("retransmission timers (RFC 6347 §4.2.4)")
struct DTLSRetransmissionTests {
    @Test("a dropped ClientHello is re-sent when the timer expires, then the handshake completes")
    func droppedFlightIsResent() async throws {
        let (client, server) = try makeSessions(clientInitialTimeout: .milliseconds(50))
        let before = ContinuousClock.now
        let first = client.start(now: before)
        #expect(first.datagrams.count == 1)  // lost on the way
        let deadline = try #require(first.timerDeadline)
        #expect(deadline > before)
        #expect(deadline <= before + .milliseconds(60))

        // Too early: nothing is re-sent, the timer keeps running.
        let early = client.handleTimeout(now: .now)
        #expect(early.datagrams.isEmpty)
        #expect(early.timerDeadline != nil)

        try await Task.sleep(for: .milliseconds(80))
        let now = ContinuousClock.now
        let retry = client.handleTimeout(now: now)
        // The same ClientHello in a record with the next sequence number (13-byte record header).
        #expect(retry.datagrams.count == 1)
        #expect(retry.datagrams.first?.dropFirst(13) == first.datagrams[0].dropFirst(13))
        #expect(client.retransmissions == 1)
        // The timer doubles (RFC 6347 §4.2.4.1).
        let next = try #require(retry.timerDeadline)
        #expect(next > now + .milliseconds(60))

        let run = runHandshake(client: client, server: server, pending: retry.datagrams)
        #expect(run.clientEvents.first?.keyingMaterial != nil)
        #expect(run.serverEvents.first?.keyingMaterial != nil)
        #expect(client.timerDeadline == nil)
    }

    @Test("the server's flight has a timer while it waits for the client's answer")
    func serverFlightHasTimer() throws {
        let (client, server) = try makeSessions()
        let hello = client.start(now: .now)
        let flight = server.receive(datagram: hello.datagrams[0], now: .now)
        #expect(!flight.datagrams.isEmpty)
        #expect(flight.timerDeadline != nil)
    }

    @Test("a peer that never answers makes the handshake fail after the retransmission limit")
    func silentPeerTimesOut() async throws {
        let context = try DTLSContext(certificate: TestCertificates.client)
        let client = try DTLSSession(context: context, role: .client, remoteFingerprints: [TestCertificates.server.fingerprint],
                                     initialRetransmissionTimeout: .milliseconds(20), maximumRetransmissions: 2)
        var output = client.start(now: .now)
        var events: [DTLSEvent] = []
        for _ in 0..<50 {
            guard let deadline = output.timerDeadline else { break }
            try await Task.sleep(until: deadline + .milliseconds(5), clock: .continuous)
            output = client.handleTimeout(now: .now)
            if let event = output.event { events.append(event) }
        }
        #expect(events == [.failed(.handshakeTimedOut)])
        #expect(client.state == .failed(.handshakeTimedOut))
    }
}
