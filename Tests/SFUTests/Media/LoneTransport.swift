import DTLS
import ICE
@testable import SFU

/// A `PeerTransport` on its own: registered on a router with a recording sink, its delegate a
/// stand-in that hands DTLS records back to the transport the way the engine does and keeps
/// what else arrived. `connect()` runs real ICE and a real DTLS handshake against a test peer.
final class LoneTransport: PeerTransportDelegate {
    let sink: RecordingSink
    let router: MediaTransportRouter
    let counters = LocalMediaCounters()
    let live = LiveObjectCounter()
    let transport: PeerTransport
    let credentials = ICECredentials.random()
    let peerCertificate: DTLSCertificate
    let serverCertificate: DTLSCertificate
    var changes: [String] = []
    var media: [(kind: MediaPacketKind, bytes: [UInt8])] = []
    var closedReasons: [ICECloseReason] = []

    /// `beside` shares another lone transport's router and sink (two peers of one media port).
    init(role: PeerRole, beside other: LoneTransport? = nil) throws {
        sink = other?.sink ?? RecordingSink()
        router = other?.router ?? MediaTransportRouter(sink: sink)
        serverCertificate = try DTLSCertificate.generate()
        peerCertificate = try DTLSCertificate.generate()
        let dtls = try DTLSSession(context: try DTLSContext(certificate: serverCertificate), role: .server,
                                   remoteFingerprints: [peerCertificate.fingerprint])
        transport = PeerTransport(participant: ParticipantID(rawValue: 1), role: role, callId: "call", dtls: dtls, live: live,
                                  counters: counters)
        transport.delegate = self
    }

    func peerTransport(_ transport: PeerTransport, received packet: UnsafeRawBufferPointer, kind: MediaPacketKind,
                       from path: FiveTuple) {
        if kind == .dtls {
            switch transport.receiveDTLS(packet, from: path, now: .now, router: router) {
            case .connected?: changes.append("connected")
            case .failed(let reason, _)?: changes.append("failed: \(reason)")
            case nil: break
            }
        } else {
            media.append((kind, Array(packet)))
        }
    }

    func peerTransportClosed(_ transport: PeerTransport, reason: ICECloseReason) { closedReasons.append(reason) }

    /// Registers the transport, nominates a path with an ICE check and completes DTLS as the
    /// client with `peerCertificate` (or `certificate`, to be refused).
    func connect(port: UInt16 = 41000, certificate: DTLSCertificate? = nil) throws -> TestPeer {
        guard let iceID = router.addTransport(local: credentials, remoteUfrag: "peer", handler: transport) else {
            throw EngineHarness.HarnessError.handshakeFailed
        }
        transport.registered(as: iceID)
        let path = FiveTuple(remote: TransportAddress(ip: "127.0.0.1", port: port)!, local: TransportAddress(ip: "127.0.0.1", port: 7882)!)
        let client = try DTLSSession(context: try DTLSContext(certificate: certificate ?? peerCertificate), role: .client,
                                     remoteFingerprints: [serverCertificate.fingerprint])
        return try connectTestPeer(credentials: credentials, peerUfrag: "peer", path: path, client: client, sink: sink) {
            deliver($0, from: $1)
        }
    }

    func deliver(_ bytes: [UInt8], from path: FiveTuple) {
        bytes.withUnsafeBytes { router.receive($0, from: path, now: .now) }
    }
}
