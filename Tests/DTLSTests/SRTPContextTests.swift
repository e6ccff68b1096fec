@testable import DTLS
import Testing

@Suite("SRTP contexts (RFC 3711, RFC 7714)")
struct SRTPContextTests {
    /// A pair of sessions keyed like the two ends of one transport, without a handshake.
    static func pair(_ profile: SRTPProfile) throws -> (sender: SRTPSession, receiver: SRTPSession) {
        let key = (0..<16).map { UInt8($0) }
        let otherKey = (0..<16).map { UInt8(100 + $0) }
        let salt = (0..<profile.masterSaltLength).map { UInt8(200 + $0) }
        let otherSalt = (0..<profile.masterSaltLength).map { UInt8(50 + $0) }
        let a = try SRTPKeyingMaterial(profile: profile, localMasterKey: key, localMasterSalt: salt,
                                       remoteMasterKey: otherKey, remoteMasterSalt: otherSalt)
        let b = try SRTPKeyingMaterial(profile: profile, localMasterKey: otherKey, localMasterSalt: otherSalt,
                                       remoteMasterKey: key, remoteMasterSalt: salt)
        return (try SRTPSession(keyingMaterial: a), try SRTPSession(keyingMaterial: b))
    }

    @Test("a replayed SRTP packet is rejected", arguments: SRTPProfile.allCases)
    func replayIsRejected(profile: SRTPProfile) throws {
        let (sender, receiver) = try Self.pair(profile)
        let buffer = PacketBuffer()
        buffer.load(rtpPacket(ssrc: 1, sequence: 100, payloadLength: 1188))
        try sender.protectRTP(buffer.storage, length: &buffer.length)
        let wire = buffer.bytes

        try receiver.unprotectRTP(buffer.storage, length: &buffer.length)
        buffer.load(wire)
        #expect(throws: DTLSError.replayed) { try receiver.unprotectRTP(buffer.storage, length: &buffer.length) }
    }

    @Test("a replayed SRTCP packet is rejected", arguments: SRTPProfile.allCases)
    func rtcpReplayIsRejected(profile: SRTPProfile) throws {
        let (sender, receiver) = try Self.pair(profile)
        let buffer = PacketBuffer()
        buffer.load(rtcpSenderReport(ssrc: 7))
        try sender.protectRTCP(buffer.storage, length: &buffer.length)
        let wire = buffer.bytes
        try receiver.unprotectRTCP(buffer.storage, length: &buffer.length)
        buffer.load(wire)
        #expect(throws: DTLSError.replayed) { try receiver.unprotectRTCP(buffer.storage, length: &buffer.length) }
    }

    @Test("a packet older than the replay window is rejected, a late one inside it is accepted")
    func replayWindow() throws {
        let (sender, receiver) = try Self.pair(.aeadAes128Gcm)
        let buffer = PacketBuffer()
        var wire: [UInt16: [UInt8]] = [:]
        for sequence: UInt16 in [1, 150, 300, 400] {
            buffer.load(rtpPacket(ssrc: 3, sequence: sequence, payloadLength: 100))
            try sender.protectRTP(buffer.storage, length: &buffer.length)
            wire[sequence] = buffer.bytes
        }
        // 300 arrives after 400, 100 behind: inside the window.
        for sequence: UInt16 in [1, 400, 300] {
            buffer.load(wire[sequence]!)
            try receiver.unprotectRTP(buffer.storage, length: &buffer.length)
        }
        buffer.load(wire[150]!)  // 250 behind: outside libsrtp's default 128-packet window
        #expect(throws: DTLSError.replayed) { try receiver.unprotectRTP(buffer.storage, length: &buffer.length) }
    }

    @Test("a modified packet fails authentication", arguments: SRTPProfile.allCases)
    func tamperingIsDetected(profile: SRTPProfile) throws {
        let (sender, receiver) = try Self.pair(profile)
        let buffer = PacketBuffer()
        buffer.load(rtpPacket(ssrc: 1, sequence: 5, payloadLength: 500))
        try sender.protectRTP(buffer.storage, length: &buffer.length)
        buffer.storage[40] ^= 0x01
        #expect(throws: DTLSError.authenticationFailed) { try receiver.unprotectRTP(buffer.storage, length: &buffer.length) }
    }

    @Test("a packet keyed for the other direction fails authentication")
    func wrongDirectionFails() throws {
        let (sender, _) = try Self.pair(.aes128CmHmacSha1_80)
        let buffer = PacketBuffer()
        buffer.load(rtpPacket(ssrc: 1, sequence: 5, payloadLength: 500))
        try sender.protectRTP(buffer.storage, length: &buffer.length)
        // Keyed with what `sender` receives with, not with what it sends with.
        let wrong = try SRTPContext(profile: .aes128CmHmacSha1_80, masterKey: (0..<16).map { UInt8(100 + $0) },
                                    masterSalt: (0..<14).map { UInt8(50 + $0) }, direction: .inbound)
        #expect(throws: DTLSError.authenticationFailed) { try wrong.unprotectRTP(buffer.storage, length: &buffer.length) }
    }

    @Test("protect refuses a buffer without room for the tag")
    func bufferWithoutRoomForTag() throws {
        let (sender, _) = try Self.pair(.aeadAes128Gcm)
        let buffer = PacketBuffer(capacity: 1200)
        buffer.load(rtpPacket(ssrc: 1, sequence: 1, payloadLength: 1188))
        #expect(throws: DTLSError.bufferTooSmall(needed: 1216, capacity: 1200)) {
            try sender.protectRTP(buffer.storage, length: &buffer.length)
        }
        #expect(buffer.length == 1200)
    }

    @Test("packets too short for a header or a tag are refused, not crashed on")
    func shortPackets() throws {
        let (sender, receiver) = try Self.pair(.aeadAes128Gcm)
        let buffer = PacketBuffer()
        buffer.load([0x80, 111, 0, 1])
        #expect(throws: DTLSError.malformedPacket) { try sender.protectRTP(buffer.storage, length: &buffer.length) }
        buffer.load([0x80, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 9, 9])
        #expect(throws: DTLSError.malformedPacket) { try receiver.unprotectRTP(buffer.storage, length: &buffer.length) }
        buffer.load([UInt8](repeating: 0x80, count: 40))
        #expect(throws: (any Error).self) { try receiver.unprotectRTP(buffer.storage, length: &buffer.length) }
    }

    @Test("an outbound context may protect the same sequence number again (NACK answers)")
    func outboundAllowsRepeat() throws {
        let (sender, receiver) = try Self.pair(.aeadAes128Gcm)
        let plain = rtpPacket(ssrc: 9, sequence: 77, payloadLength: 800)
        let buffer = PacketBuffer()
        buffer.load(plain)
        try sender.protectRTP(buffer.storage, length: &buffer.length)
        buffer.load(plain)
        try sender.protectRTP(buffer.storage, length: &buffer.length)
        try receiver.unprotectRTP(buffer.storage, length: &buffer.length)
        #expect(buffer.bytes == plain)
    }

    @Test("keying material of the wrong size is refused")
    func wrongKeySize() {
        #expect(throws: DTLSError.invalidKeyingMaterial(expected: 60, got: 56)) {
            try SRTPKeyingMaterial(profile: .aes128CmHmacSha1_80, exported: [UInt8](repeating: 0, count: 56), role: .server)
        }
        #expect(throws: DTLSError.invalidKeyingMaterial(expected: 14, got: 12)) {
            try SRTPContext(profile: .aes128CmHmacSha1_80, masterKey: [UInt8](repeating: 1, count: 16),
                            masterSalt: [UInt8](repeating: 1, count: 12), direction: .inbound)
        }
    }

    @Test("exported keying material is split per RFC 5764 §4.2")
    func exporterLayout() throws {
        let exported = (0..<60).map { UInt8($0) }
        let server = try SRTPKeyingMaterial(profile: .aes128CmHmacSha1_80, exported: exported, role: .server)
        #expect(server.remoteMasterKey == Array(0..<16))    // client_write_SRTP_master_key
        #expect(server.localMasterKey == Array(16..<32))    // server_write_SRTP_master_key
        #expect(server.remoteMasterSalt == Array(32..<46))  // client_write_SRTP_master_salt
        #expect(server.localMasterSalt == Array(46..<60))   // server_write_SRTP_master_salt
        let client = try SRTPKeyingMaterial(profile: .aes128CmHmacSha1_80, exported: exported, role: .client)
        #expect(client.localMasterKey == server.remoteMasterKey)
        #expect(client.localMasterSalt == server.remoteMasterSalt)
        #expect(SRTPKeyingMaterial.exportedLength(for: .aeadAes128Gcm) == 56)
    }
}
