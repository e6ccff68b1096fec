@testable import DTLS
import Testing

@Suite("DTLS-SRTP handshake between two sessions")
struct DTLSHandshakeTests {
    @Test("a handshake negotiates each SRTP profile and both sides derive mirrored keys", arguments: SRTPProfile.allCases)
    func handshakeNegotiatesProfile(profile: SRTPProfile) throws {
        let (client, server) = try makeSessions(profiles: [profile])
        let run = runHandshake(client: client, server: server)

        let clientMaterial = try #require(run.clientEvents.first?.keyingMaterial)
        let serverMaterial = try #require(run.serverEvents.first?.keyingMaterial)
        #expect(client.state == .connected)
        #expect(server.state == .connected)
        #expect(clientMaterial.profile == profile)
        #expect(serverMaterial.profile == profile)
        #expect(clientMaterial.localMasterKey == serverMaterial.remoteMasterKey)
        #expect(clientMaterial.localMasterSalt == serverMaterial.remoteMasterSalt)
        #expect(serverMaterial.localMasterKey == clientMaterial.remoteMasterKey)
        #expect(serverMaterial.localMasterSalt == clientMaterial.remoteMasterSalt)
        #expect(clientMaterial.localMasterKey != clientMaterial.remoteMasterKey)
        #expect(serverMaterial.localMasterSalt.count == profile.masterSaltLength)
        #expect(server.peerFingerprint == TestCertificates.client.fingerprint)
        #expect(client.peerFingerprint == TestCertificates.server.fingerprint)
    }

    @Test("the server prefers AEAD_AES_128_GCM when the client offers both profiles")
    func serverPrefersGcm() throws {
        let (client, server) = try makeSessions(profiles: SRTPProfile.preferred,
                                                clientProfiles: [.aes128CmHmacSha1_80, .aeadAes128Gcm])
        let run = runHandshake(client: client, server: server)
        #expect(run.serverEvents.first?.keyingMaterial?.profile == .aeadAes128Gcm)
        #expect(run.clientEvents.first?.keyingMaterial?.profile == .aeadAes128Gcm)
    }

    @Test("SRTP and SRTCP protected by one side are unprotected by the other", arguments: SRTPProfile.allCases)
    func srtpRoundTrip(profile: SRTPProfile) throws {
        let (client, server) = try makeSessions(profiles: [profile])
        let run = runHandshake(client: client, server: server)
        let clientSRTP = try SRTPSession(keyingMaterial: try #require(run.clientEvents.first?.keyingMaterial))
        let serverSRTP = try SRTPSession(keyingMaterial: try #require(run.serverEvents.first?.keyingMaterial))
        let buffer = PacketBuffer()

        for sequence in UInt16(1)...UInt16(5) {
            let plain = rtpPacket(ssrc: 0xCAFE_0001, sequence: sequence, payloadLength: 1188)
            buffer.load(plain)
            try serverSRTP.protectRTP(buffer.storage, length: &buffer.length)
            #expect(buffer.length == plain.count + profile.rtpOverhead)
            #expect(buffer.bytes[12..<40] != plain[12..<40])
            try clientSRTP.unprotectRTP(buffer.storage, length: &buffer.length)
            #expect(buffer.bytes == plain)
        }

        let upstream = rtpPacket(ssrc: 0xBEEF_0002, sequence: 9, payloadLength: 300)
        buffer.load(upstream)
        try clientSRTP.protectRTP(buffer.storage, length: &buffer.length)
        try serverSRTP.unprotectRTP(buffer.storage, length: &buffer.length)
        #expect(buffer.bytes == upstream)

        let report = rtcpSenderReport(ssrc: 0xBEEF_0002)
        buffer.load(report)
        try clientSRTP.protectRTCP(buffer.storage, length: &buffer.length)
        #expect(buffer.length == report.count + profile.rtcpOverhead)
        try serverSRTP.unprotectRTCP(buffer.storage, length: &buffer.length)
        #expect(buffer.bytes == report)
    }

    @Test("handshake datagrams never exceed the 1200-byte MTU")
    func datagramsFitTheMtu() throws {
        let (client, server) = try makeSessions()
        let run = runHandshake(client: client, server: server)
        #expect(server.state == .connected)
        #expect(!run.datagramSizes.isEmpty)
        #expect(run.datagramSizes.allSatisfy { $0 <= 1200 }, "sizes \(run.datagramSizes)")
        #expect(server.mtu == 1200)
    }

    @Test("every datagram a session writes starts with a DTLS content type (RFC 7983)")
    func datagramsDemultiplexAsDTLS() throws {
        let (client, server) = try makeSessions()
        let hello = client.start(now: .now)
        #expect(hello.datagrams.count == 1)
        #expect(hello.datagrams.allSatisfy { DTLSSession.isDTLS(firstByte: $0[0]) })
        let flight = server.receive(datagram: hello.datagrams[0], now: .now)
        #expect(!flight.datagrams.isEmpty)
        #expect(flight.datagrams.allSatisfy { DTLSSession.isDTLS(firstByte: $0[0]) })
    }

    @Test("close sends close_notify and the peer reports closed")
    func closeNotify() throws {
        let (client, server) = try makeSessions()
        _ = runHandshake(client: client, server: server)
        let bye = server.close()
        #expect(bye.event == .closed)
        #expect(bye.datagrams.count == 1)
        let output = client.receive(datagram: bye.datagrams[0], now: .now)
        #expect(output.event == .closed)
        #expect(client.state == .closed)
    }
}
