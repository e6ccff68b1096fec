import DTLS
import ICE

/// One of a participant's two peer connections as the media engine sees it: its ICE transport,
/// its DTLS association and, once that is done, its SRTP session (RFC 5764). A publish
/// transport holds the tracks the participant sends and the SSRCs bound to them; a subscribe
/// transport holds the down-tracks it receives and the estimate of its bandwidth.
/// Confined to the media thread.
final class PeerTransport: MediaTransportHandler {
    unowned let engine: MediaEngine
    let participant: ParticipantID
    let role: PeerRole
    let callId: String
    var iceID: IceTransportID?
    let dtls: DtlsSession
    var dtlsDeadline: ContinuousClock.Instant?
    var srtp: SrtpSession?
    /// The 5-tuple ICE selected (kept here so a send needs no lookup in the agent), and the
    /// path the last DTLS record came from, for replies before ICE nominated one.
    var path: FiveTuple?
    var lastPath: FiveTuple?
    /// Parley's SSRC as the sender of this transport's RTCP.
    let rtcpSsrc = UInt32.random(in: 1...UInt32.max)
    var closed = false

    // MARK: publish side
    var tracks: [PublishedTrack] = []
    /// SSRC -> the track layer it carries, learned from the SDP or from mid/rid extensions.
    var bindings: [UInt32: SsrcBinding] = [:]
    var transportCC = TransportCCRecorder()
    var transportCCId: UInt8 = 0
    var midId: UInt8 = 0
    var ridId: UInt8 = 0
    var repairedRidId: UInt8 = 0
    /// The media SSRC named in transport-cc feedback (any SSRC of the transport will do).
    var transportCCMediaSsrc: UInt32 = 0

    // MARK: subscribe side
    /// Parley's media SSRC of each of this subscriber's down-tracks (what its PLI, FIR, NACK and
    /// receiver reports name) -> the down-track.
    var downTracks: [UInt32: DownTrack] = [:]
    var estimator = BandwidthEstimator()
    /// `call.quality` wishes by track, kept so a wish sent before the answer is not lost.
    var qualityWishes: [TrackID: SimulcastQuality] = [:]

    init(engine: MediaEngine, participant: ParticipantID, role: PeerRole, callId: String, dtls: DtlsSession) {
        self.engine = engine
        self.participant = participant
        self.role = role
        self.callId = callId
        self.dtls = dtls
    }

    var isConnected: Bool { srtp != nil && !closed }

    func mediaTransport(_ id: IceTransportID, received packet: UnsafeRawBufferPointer, kind: MediaPacketKind,
                        from path: FiveTuple, router: MediaTransportRouter) {
        engine.received(packet, kind: kind, from: path, on: self, router: router)
    }

    func mediaTransport(_ id: IceTransportID, selected path: FiveTuple, previous: FiveTuple?, router: MediaTransportRouter) {
        self.path = path
    }

    func mediaTransportClosed(_ id: IceTransportID, reason: IceCloseReason) {
        engine.transportClosed(self, reason: reason)
    }
}

/// What one incoming SSRC carries: a layer of a track, as media or as its RTX repair stream.
struct SsrcBinding {
    unowned let track: PublishedTrack
    let layer: Int
    let isRTX: Bool
}
