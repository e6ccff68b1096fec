@testable import DTLS
import Testing

@Suite("the peer certificate must match the SDP fingerprint (RFC 8122 §5)")
struct DTLSFingerprintVerificationTests {
    @Test("a server refuses a client whose certificate does not match the expected fingerprint")
    func serverRefusesWrongFingerprint() throws {
        let (client, server) = try makeSessions(serverExpects: [TestCertificates.stranger])
        let run = runHandshake(client: client, server: server)

        let failure = try #require(run.serverEvents.first?.failure)
        #expect(failure == .fingerprintMismatch(presented: TestCertificates.client.fingerprint.sdpValue))
        #expect(server.state == .failed(failure))
        #expect(server.keyingMaterial == nil)
        #expect(!run.serverEvents.contains { $0.keyingMaterial != nil })
        // The alert reaches the client, which fails too instead of waiting for a timeout.
        #expect(run.clientEvents.contains { $0.failure != nil })
        #expect(!run.clientEvents.contains { $0.keyingMaterial != nil })
    }

    @Test("a client refuses a server whose certificate does not match the expected fingerprint")
    func clientRefusesWrongFingerprint() throws {
        let (client, server) = try makeSessions(clientExpects: [TestCertificates.stranger])
        let run = runHandshake(client: client, server: server)
        #expect(run.clientEvents.first?.failure == .fingerprintMismatch(presented: TestCertificates.server.fingerprint.sdpValue))
        #expect(!run.serverEvents.contains { $0.keyingMaterial != nil })
    }

    @Test("one matching fingerprint among several (other algorithms, other certificates) is enough")
    func anyMatchingFingerprintIsAccepted() throws {
        let clientDER = TestCertificates.client.derBytes
        let expected = [TestCertificates.stranger,
                        DTLSFingerprint(certificateDER: clientDER, algorithm: .sha512),
                        DTLSFingerprint(certificateDER: clientDER, algorithm: .sha384)]
        let (client, server) = try makeSessions(serverExpects: expected)
        let run = runHandshake(client: client, server: server)
        #expect(run.serverEvents.first?.keyingMaterial != nil)
    }

    @Test("when the peer's SDP arrives after the handshake, keys are released only on a match")
    func lateFingerprintMatches() throws {
        let (client, server) = try makeSessions(serverExpects: [])
        let run = runHandshake(client: client, server: server)
        #expect(run.serverEvents.isEmpty)
        #expect(server.state == .awaitingFingerprint)

        let output = server.setRemoteFingerprints([TestCertificates.client.fingerprint], now: .now)
        #expect(output.event?.keyingMaterial?.remoteMasterKey == run.clientEvents.first?.keyingMaterial?.localMasterKey)
        #expect(server.state == .connected)
    }

    @Test("when the peer's late SDP fingerprint does not match, the session fails")
    func lateFingerprintMismatch() throws {
        let (client, server) = try makeSessions(serverExpects: [])
        _ = runHandshake(client: client, server: server)
        let output = server.setRemoteFingerprints([TestCertificates.stranger], now: .now)
        #expect(output.event?.failure == .fingerprintMismatch(presented: TestCertificates.client.fingerprint.sdpValue))
        #expect(server.keyingMaterial == nil)
        // close_notify goes to the client.
        #expect(output.datagrams.count == 1)
    }
}
