import DTLS
import ICE
import RTCP

/// One of a participant's two peer connections as the media engine sees it: its ICE transport,
/// its DTLS association and, once that is done, its SRTP session (RFC 5764). A publish
/// transport holds the tracks the participant sends and the SSRCs bound to them; a subscribe
/// transport holds the down-tracks it receives and the estimate of its bandwidth.
/// Confined to the media thread.
final class PeerTransport: MediaTransportHandler {
    unowned let engine: MediaEngine
    private let live: LiveObjectCounter
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

    /// SSRCs the peer's packets authenticated under (libsrtp made a stream for each), and the
    /// SSRCs Parley sends with on this transport: both are libsrtp streams held by `srtp`.
    private(set) var inboundSsrcs: Set<UInt32> = []
    private(set) var outboundSsrcs: Set<UInt32> = []

    // MARK: publish side
    var tracks: [PublishedTrack] = [] {
        didSet { layerCount = tracks.reduce(0) { $0 + $1.layers.count } }
    }
    private(set) var layerCount = 0
    /// SSRC -> the track layer it carries, learned from the SDP or from mid/rid extensions.
    /// At most two per layer (media and RTX): a layer that moves to a new SSRC gives up its old one.
    private(set) var bindings: [UInt32: SsrcBinding] = [:]
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

    /// Retransmissions this subscriber may still be sent.
    var retransmitBudget = RetransmitBudget()
    /// The subscriber's round-trip time, from its receiver reports' LSR/DLSR (RFC 3550 §6.4.1).
    var roundTrip: Duration?

    init(engine: MediaEngine, participant: ParticipantID, role: PeerRole, callId: String, dtls: DtlsSession) {
        self.engine = engine
        live = engine.live
        self.participant = participant
        self.role = role
        self.callId = callId
        self.dtls = dtls
        live.counts.transports += 1
    }

    deinit {
        live.counts.transports -= 1
        live.counts.ssrcBindings -= bindings.count
        live.counts.srtpStreams -= inboundSsrcs.count + outboundSsrcs.count
    }

    var isConnected: Bool { srtp != nil && !closed }

    // MARK: SSRC state

    /// The most SSRCs the peer may make this transport's SRTP session hold: two per layer it
    /// publishes (media and RTX), or two per down-track it receives (what its RTCP may come
    /// from), plus four for RTCP-only senders and a stream being replaced. Tracks per offer are
    /// capped (`CALL_MAX_TRACKS`, 3 encodings each), so with the default of 4 a publisher is held
    /// to 28 streams; a peer sending endless new SSRCs has the rest dropped unread.
    var inboundSsrcLimit: Int { 2 * (role == .publish ? layerCount : downTracks.count) + 4 }

    /// Whether libsrtp holds a stream for `ssrc` already.
    @inline(__always) func hasInbound(_ ssrc: UInt32) -> Bool { inboundSsrcs.contains(ssrc) }

    /// Whether a stream for one more SSRC may be made.
    var hasRoomForInbound: Bool { inboundSsrcs.count < inboundSsrcLimit }

    /// A packet of a new `ssrc` authenticated: libsrtp made a stream for it.
    func authenticated(_ ssrc: UInt32) {
        if inboundSsrcs.insert(ssrc).inserted { live.counts.srtpStreams += 1 }
    }

    /// Frees the inbound stream of an SSRC the peer stopped using.
    func forgetInbound(_ ssrc: UInt32) {
        guard inboundSsrcs.remove(ssrc) != nil else { return }
        srtp?.inbound.removeStream(ssrc: ssrc)
        live.counts.srtpStreams -= 1
    }

    /// Parley is about to send with `ssrc` (libsrtp makes its stream on the first packet).
    func willSend(_ ssrc: UInt32) {
        if outboundSsrcs.insert(ssrc).inserted { live.counts.srtpStreams += 1 }
    }

    /// Parley stopped sending with `ssrc`: its outbound stream goes.
    func stoppedSending(_ ssrc: UInt32) {
        guard outboundSsrcs.remove(ssrc) != nil else { return }
        srtp?.outbound.removeStream(ssrc: ssrc)
        live.counts.srtpStreams -= 1
    }

    func bind(_ ssrc: UInt32, to binding: SsrcBinding) {
        if bindings.updateValue(binding, forKey: ssrc) == nil { live.counts.ssrcBindings += 1 }
    }

    func unbind(_ ssrc: UInt32) {
        guard bindings.removeValue(forKey: ssrc) != nil else { return }
        live.counts.ssrcBindings -= 1
        forgetInbound(ssrc)
    }

    func unbindAll() {
        live.counts.ssrcBindings -= bindings.count
        bindings.removeAll()
    }

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
