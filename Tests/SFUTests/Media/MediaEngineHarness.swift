import DTLS
import ICE
@testable import SFU
@testable import RTP
@testable import SDP

/// Records what the router sends, per destination.
final class RecordingSink: DatagramSink {
    var sent: [(bytes: [UInt8], to: FiveTuple)] = []
    func send(_ packet: UnsafeRawBufferPointer, to path: FiveTuple) { sent.append((Array(packet), path)) }

    func take(to path: FiveTuple) -> [[UInt8]] {
        let mine = sent.filter { $0.to == path }.map(\.bytes)
        sent.removeAll { $0.to == path }
        return mine
    }
}

/// A media engine on a router with a recording sink, driven synchronously: no sockets, no
/// threads, real ICE checks, a real DTLS handshake and real SRTP on both sides.
final class EngineHarness {
    let sink = RecordingSink()
    let router: MediaTransportRouter
    let engine: MediaEngine
    let serverCertificate: DTLSCertificate
    var events: [MediaEvent] { eventBox.events }
    private let eventBox = EventBox()
    private var nextPort: UInt16 = 40000

    final class EventBox: @unchecked Sendable {
        var events: [MediaEvent] = []
    }

    /// The time the engine reads, when a test drives it (`init(clock:)`).
    final class ManualClock: @unchecked Sendable {
        var now = ContinuousClock.now
        func advance(by duration: Duration) { now += duration }
    }

    /// With `clock`, the engine handles packets at `clock.now` instead of the process's clock.
    init(clock: ManualClock? = nil) throws {
        serverCertificate = try DTLSCertificate.generate()
        let context = try DTLSContext(certificate: serverCertificate)
        router = MediaTransportRouter(sink: sink)
        let box = eventBox
        if let clock {
            engine = MediaEngine(router: router, dtlsContext: context, counters: MediaCounters(), clock: { clock.now }) { box.events.append($0) }
        } else {
            engine = MediaEngine(router: router, dtlsContext: context, counters: MediaCounters()) { box.events.append($0) }
        }
    }

    /// A connected publisher with one track of `media`, and a connected subscriber (with no
    /// down-tracks yet).
    func publisherAndSubscriber(_ publisherId: ParticipantID, _ subscriberId: ParticipantID, track: TrackID, media: PublishedMedia,
                                cname: String = "pub") throws -> (publisher: TestPeer, subscriber: TestPeer) {
        let publisher = try connect(publisherId, role: .publish)
        let subscriber = try connect(subscriberId, role: .subscribe)
        engine.setPublishedTracks(participant: publisherId, [PublishTrackConfig(id: track, media: media, cname: cname)])
        return (publisher, subscriber)
    }

    /// Opens a transport for `participant`/`role` and connects a test peer to it (ICE check with
    /// USE-CANDIDATE, DTLS handshake as client), returning the peer with its SRTP session.
    /// `peerCertificate` defaults to a fresh one; tests that connect thousands of peers pass one.
    func connect(_ participant: ParticipantID, role: PeerRole, callId: String = "call",
                 peerCertificate: DTLSCertificate? = nil) throws -> TestPeer {
        let credentials = ICECredentials.random()
        let peerCertificate = try peerCertificate ?? DTLSCertificate.generate()
        let peerUfrag = "peer\(nextPort)"
        engine.openTransport(participant: participant, callId: callId, role: role, credentials: credentials,
                             remote: RemoteTransport(credentials: ICECredentials(ufrag: peerUfrag, password: "peer-password-not-checked"),
                                                     fingerprints: [peerCertificate.fingerprint]))
        nextPort += 1
        let path = FiveTuple(remote: TransportAddress(ip: "127.0.0.1", port: nextPort)!,
                             local: TransportAddress(ip: "127.0.0.1", port: 7882)!)
        let client = try DTLSSession(context: try DTLSContext(certificate: peerCertificate), role: .client,
                                     remoteFingerprints: [serverCertificate.fingerprint])
        return try connectTestPeer(credentials: credentials, peerUfrag: peerUfrag, path: path, client: client, sink: sink) {
            deliver($0, from: $1)
        }
    }

    func deliver(_ bytes: [UInt8], from path: FiveTuple) {
        bytes.withUnsafeBytes { router.receive($0, from: path, now: .now) }
    }

    /// Protects and delivers an RTP packet from a peer.
    func sendRTP(_ packet: [UInt8], from peer: TestPeer) throws {
        deliver(try peer.protect(packet, rtcp: false), from: peer.path)
    }

    func sendRTCP(_ packet: [UInt8], from peer: TestPeer) throws {
        deliver(try peer.protect(packet, rtcp: true), from: peer.path)
    }

    /// What the engine sent to a peer since the last call, unprotected (RTP and RTCP apart).
    func received(by peer: TestPeer) throws -> (rtp: [[UInt8]], rtcp: [[UInt8]]) {
        var rtp: [[UInt8]] = [], rtcp: [[UInt8]] = []
        for datagram in sink.take(to: peer.path) {
            let kind = datagram.withUnsafeBytes { PacketDemux.classify($0) }
            switch kind {
            case .rtp: rtp.append(try peer.unprotect(datagram, rtcp: false))
            case .rtcp: rtcp.append(try peer.unprotect(datagram, rtcp: true))
            default: continue
            }
        }
        return (rtp, rtcp)
    }

    func tick(at now: ContinuousClock.Instant = .now) { engine.tick(now: now) }

    enum HarnessError: Error { case handshakeFailed }
}

/// Connects a test peer to the transport with Parley's `credentials` over `path`: an ICE check
/// with USE-CANDIDATE, then `client`'s DTLS handshake, the peer's datagrams in through `deliver`
/// and Parley's answers taken from `sink`. Returns the peer with its SRTP session.
func connectTestPeer(credentials: ICECredentials, peerUfrag: String, path: FiveTuple, client: DTLSSession, sink: RecordingSink,
                     deliver: ([UInt8], FiveTuple) -> Void) throws -> TestPeer {
    let check = try STUNMessage(type: .bindingRequest, attributes: [
        .username("\(credentials.ufrag):\(peerUfrag)"), .priority(0x6e00_01ff), .iceControlling(tieBreaker: 42), .useCandidate,
    ]).serialized(integrityKey: credentials.key, fingerprint: true)
    deliver(check, path)
    _ = sink.take(to: path)  // the binding response
    var output = client.start(now: .now)
    var keys: SRTPKeyingMaterial?
    for _ in 0..<10 {
        for datagram in output.datagrams { deliver(datagram, path) }
        output = DTLSOutput()
        for reply in sink.take(to: path) {
            let step = client.receive(datagram: reply, now: .now)
            output.datagrams += step.datagrams
            if case .connected(let material)? = step.event { keys = material }
        }
        if keys != nil && output.datagrams.isEmpty { break }
    }
    for datagram in output.datagrams { deliver(datagram, path) }
    guard let keys else { throw EngineHarness.HarnessError.handshakeFailed }
    return TestPeer(path: path, srtp: try SRTPSession(keyingMaterial: keys))
}

/// The far side of one transport in tests.
struct TestPeer {
    let path: FiveTuple
    let srtp: SRTPSession

    func protect(_ packet: [UInt8], rtcp: Bool) throws -> [UInt8] {
        var buffer = packet + [UInt8](repeating: 0, count: 64)
        var length = packet.count
        try buffer.withUnsafeMutableBytes { raw in
            if rtcp { try srtp.protectRTCP(raw, length: &length) } else { try srtp.protectRTP(raw, length: &length) }
        }
        return Array(buffer[0..<length])
    }

    func unprotect(_ packet: [UInt8], rtcp: Bool) throws -> [UInt8] {
        var buffer = packet
        var length = packet.count
        try buffer.withUnsafeMutableBytes { raw in
            if rtcp { try srtp.unprotectRTCP(raw, length: &length) } else { try srtp.unprotectRTP(raw, length: &length) }
        }
        return Array(buffer[0..<length])
    }
}

/// Builds RTP packets for tests: a 12-byte header, an optional one-byte-form extension block
/// (RFC 8285) and a payload.
func rtpPacket(payloadType: UInt8, sequence: UInt16, timestamp: UInt32, ssrc: UInt32, marker: Bool = false,
               extensions: [(UInt8, [UInt8])] = [], payload: [UInt8]) -> [UInt8] {
    var bytes: [UInt8] = [extensions.isEmpty ? 0x80 : 0x90, (marker ? 0x80 : 0) | payloadType,
                          UInt8(sequence >> 8), UInt8(sequence & 0xFF)]
    bytes += withUnsafeBytes(of: timestamp.bigEndian, Array.init)
    bytes += withUnsafeBytes(of: ssrc.bigEndian, Array.init)
    if !extensions.isEmpty {
        var block: [UInt8] = []
        for (id, value) in extensions { block += [id << 4 | UInt8(value.count - 1)] + value }
        while block.count % 4 != 0 { block.append(0) }
        bytes += [0xBE, 0xDE, UInt8((block.count / 4) >> 8), UInt8((block.count / 4) & 0xFF)] + block
    }
    return bytes + payload
}

/// A VP8 payload (RFC 7741 §4.2): descriptor with a 15-bit PictureID, then a payload header
/// whose P bit is 0 for a keyframe (on the first packet of a frame).
func vp8Payload(pictureId: UInt16, start: Bool, keyframe: Bool, size: Int = 40) -> [UInt8] {
    var bytes: [UInt8] = [0x80 | (start ? 0x10 : 0), 0x80, 0x80 | UInt8(pictureId >> 8 & 0x7F), UInt8(pictureId & 0xFF)]
    bytes.append(start ? (keyframe ? 0x10 : 0x11) : 0x00)
    if start && keyframe { bytes += [0x00, 0x00, 0x9D, 0x01, 0x2A] }
    while bytes.count < size { bytes.append(UInt8(bytes.count & 0xFF)) }
    return bytes
}

extension RTPPacketView {
    /// Reads a packet held in an array (tests only).
    static func parse(_ bytes: [UInt8]) -> (payloadType: UInt8, sequence: UInt16, timestamp: UInt32, ssrc: UInt32, payload: [UInt8])? {
        bytes.withUnsafeBytes { raw in
            guard let view = RTPPacketView(raw) else { return nil }
            return (view.payloadType, view.sequenceNumber, view.timestamp, view.ssrc, Array(view.payload))
        }
    }
}
