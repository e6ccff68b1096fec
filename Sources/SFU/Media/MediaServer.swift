import DTLS
import ICE
import SDP

/// The SFU's media plane as the rest of the process sees it: the media I/O thread with its one
/// UDP port, the DTLS certificate, and the engine on that thread. Every method queues its
/// change to the I/O thread and returns at once; nothing here blocks on the media path.
public final class MediaServer: Sendable {
    public let configuration: MediaTransportConfiguration
    public let certificate: DTLSCertificate
    let io: MediaIOThread
    let engine: MediaEngine

    /// Opens the media port and loads (or creates) the DTLS certificate in `certificateDirectory`.
    /// `events` is called from the media thread; it must only hand the event on.
    public init(configuration: MediaTransportConfiguration, certificateDirectory: String,
                events: @escaping @Sendable (MediaEvent) -> Void) throws {
        self.configuration = configuration
        certificate = try DTLSCertificate.loadOrCreate(inDirectory: certificateDirectory)
        let context = try DTLSContext(certificate: certificate)
        io = try MediaIOThread(configuration: configuration)
        engine = MediaEngine(router: io.router, dtlsContext: context, counters: MediaCounters(), events: events)
        engine.releaseMemory = { MemoryRelease.request() }
    }

    public func start() {
        let engine = self.engine
        io.setTicker(every: .milliseconds(20)) { now, _ in engine.tick(now: now) }
        io.start()
    }

    public func stop() { io.stop() }

    /// The UDP port media arrives on (the one bound, if `RTC_UDP_PORT` was 0).
    public var port: UInt16 { io.localAddress.port }

    /// Parley's side of a new peer connection, for its SDP: fresh ICE credentials, the
    /// certificate's fingerprint, and the candidates on the announced address.
    public func localTransport(sessionId: UInt64) -> LocalTransport {
        let ip = configuration.announcedIP
        return LocalTransport(
            credentials: .random(), fingerprint: certificate.fingerprint,
            candidates: ICECandidateLines.lines(announcedIP: ip, port: port, iceTCP: configuration.iceTCPEnabled),
            address: ip, sessionId: sessionId)
    }

    /// Opens `role`'s transport with Parley's `credentials`; `remote` is the peer's side when its
    /// SDP is already known (a publish offer), nil until its answer comes (a subscribe offer).
    public func openTransport(participant: ParticipantID, callId: String, role: PeerRole, credentials: ICECredentials,
                              remote: RemoteTransport?) {
        let engine = self.engine
        io.execute { _ in
            engine.openTransport(participant: participant, callId: callId, role: role, credentials: credentials,
                                 remote: remote)
        }
    }

    /// The peer's ICE ufrag and certificate fingerprints from its latest offer or answer.
    public func updateRemote(participant: ParticipantID, role: PeerRole, remote: RemoteTransport) {
        let engine = self.engine
        io.execute { _ in engine.updateRemote(participant: participant, role: role, remote: remote) }
    }

    public func setPublishedTracks(participant: ParticipantID, _ tracks: [PublishTrackConfig]) {
        let engine = self.engine
        io.execute { _ in engine.setPublishedTracks(participant: participant, tracks) }
    }

    public func setDownTracks(participant: ParticipantID, _ downTracks: [DownTrackConfig]) {
        let engine = self.engine
        io.execute { _ in engine.setDownTracks(participant: participant, downTracks) }
    }

    public func setQuality(participant: ParticipantID, track: TrackID, quality: SimulcastQuality) {
        let engine = self.engine
        io.execute { _ in engine.setQuality(participant: participant, track: track, quality: quality) }
    }

    public func removeParticipant(_ participant: ParticipantID) {
        let engine = self.engine
        io.execute { _ in engine.removeParticipant(participant) }
    }
}
