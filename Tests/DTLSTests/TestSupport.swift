@testable import DTLS
import Testing

/// Two in-process sessions joined by a lossless or lossy "network" of arrays.
struct HandshakeRun {
    var clientEvents: [DTLSEvent] = []
    var serverEvents: [DTLSEvent] = []
    var datagramSizes: [Int] = []
}

enum TestCertificates {
    static let server = try! DTLSCertificate.generate(commonName: "parley-test-server")
    static let client = try! DTLSCertificate.generate(commonName: "parley-test-client")
    /// A fingerprint that matches neither certificate.
    static let stranger = try! DTLSCertificate.generate(commonName: "stranger").fingerprint
}

func makeSessions(profiles: [SRTPProfile] = SRTPProfile.preferred,
                  clientProfiles: [SRTPProfile]? = nil,
                  serverExpects: [DTLSFingerprint]? = nil,
                  clientExpects: [DTLSFingerprint]? = nil,
                  clientInitialTimeout: Duration = .seconds(1)) throws -> (client: DTLSSession, server: DTLSSession) {
    let serverContext = try DTLSContext(certificate: TestCertificates.server, srtpProfiles: profiles)
    let clientContext = try DTLSContext(certificate: TestCertificates.client, srtpProfiles: clientProfiles ?? profiles)
    let server = try DTLSSession(context: serverContext, role: .server,
                                 remoteFingerprints: serverExpects ?? [TestCertificates.client.fingerprint])
    let client = try DTLSSession(context: clientContext, role: .client,
                                 remoteFingerprints: clientExpects ?? [TestCertificates.server.fingerprint],
                                 initialRetransmissionTimeout: clientInitialTimeout)
    return (client, server)
}

/// Moves datagrams between the two sessions until both go quiet.
func runHandshake(client: DTLSSession, server: DTLSSession, pending: [[UInt8]]? = nil) -> HandshakeRun {
    var run = HandshakeRun()
    var toServer: [[UInt8]]
    if let pending {
        toServer = pending
    } else {
        let start = client.start(now: .now)
        toServer = start.datagrams
        if let event = start.event { run.clientEvents.append(event) }
    }
    var toClient: [[UInt8]] = []
    for _ in 0..<20 where !(toServer.isEmpty && toClient.isEmpty) {
        for datagram in toServer {
            run.datagramSizes.append(datagram.count)
            let output = server.receive(datagram: datagram, now: .now)
            toClient += output.datagrams
            if let event = output.event { run.serverEvents.append(event) }
        }
        toServer = []
        for datagram in toClient {
            run.datagramSizes.append(datagram.count)
            let output = client.receive(datagram: datagram, now: .now)
            toServer += output.datagrams
            if let event = output.event { run.clientEvents.append(event) }
        }
        toClient = []
    }
    return run
}

extension DTLSEvent {
    var keyingMaterial: SRTPKeyingMaterial? {
        if case .connected(let material) = self { material } else { nil }
    }
    var failure: DTLSError? {
        if case .failed(let error) = self { error } else { nil }
    }
}

/// An RTP packet: V=2, PT 96, the given sequence number and SSRC, and a payload pattern.
func rtpPacket(ssrc: UInt32, sequence: UInt16, payloadLength: Int, multiplier: Int = 7, offset: Int = 3) -> [UInt8] {
    var packet: [UInt8] = [0x80, 111, UInt8(sequence >> 8), UInt8(sequence & 0xFF), 0, 0, 0x03, 0xC0]
    packet += withUnsafeBytes(of: ssrc.bigEndian, Array.init)
    packet += (0..<payloadLength).map { UInt8(truncatingIfNeeded: $0 * multiplier + offset) }
    return packet
}

/// An RTCP sender report (PT 200, 28 bytes) as the Python peer builds it.
func rtcpSenderReport(ssrc: UInt32) -> [UInt8] {
    [0x80, 200, 0, 6] + withUnsafeBytes(of: ssrc.bigEndian, Array.init) + (1...20).map { UInt8($0) }
}

/// A reusable packet buffer with room for the SRTP tag, as the SFU will keep one.
final class PacketBuffer {
    let storage: UnsafeMutableRawBufferPointer
    var length = 0

    init(capacity: Int = 1500) {
        storage = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit { storage.deallocate() }

    func load(_ bytes: [UInt8]) {
        precondition(bytes.count <= storage.count)
        bytes.withUnsafeBytes { storage.copyMemory(from: $0) }
        length = bytes.count
    }

    var bytes: [UInt8] { Array(storage[0..<length]) }
}
