import ByteOrder
import DTLS
import ICE
import RTCP

/// What a `PeerTransport` hands on: the packets its peer sent, and its end. The media engine is
/// the one implementation; a test of a transport alone needs none (the delegate is weak).
protocol PeerTransportDelegate: AnyObject {
    func peerTransport(_ transport: PeerTransport, received packet: UnsafeRawBufferPointer, kind: MediaPacketKind,
                       from path: FiveTuple)
    func peerTransportClosed(_ transport: PeerTransport, reason: ICECloseReason)
}

/// One of a participant's two peer connections: its ICE transport, its DTLS association and,
/// once that is done, its SRTP session (RFC 5764), with what it takes to use them: applying
/// what the DTLS session asks for, unprotecting what arrives and protecting and sending
/// Parley's RTCP, and bounding the SRTP streams a peer can make libsrtp hold. A publish
/// transport also holds the tracks the participant sends and the SSRCs bound to them; a
/// subscribe transport the down-tracks it receives and the estimate of its bandwidth.
/// Confined to the media thread.
final class PeerTransport: MediaTransportHandler {
    weak var delegate: (any PeerTransportDelegate)?
    private let live: LiveObjectCounter
    private let counters: LocalMediaCounters
    let participant: ParticipantID
    let role: PeerRole
    let callId: String
    private(set) var iceID: ICETransportID?
    let dtls: DTLSSession
    private(set) var dtlsDeadline: ContinuousClock.Instant?
    private(set) var srtp: SRTPSession?
    /// The 5-tuple ICE selected (kept here so a send needs no lookup in the agent), and the
    /// path the last DTLS record came from, for replies before ICE nominated one.
    private(set) var path: FiveTuple?
    private(set) var lastPath: FiveTuple?
    /// Parley's SSRC as the sender of this transport's RTCP.
    let rtcpSSRC = UInt32.random(in: 1...UInt32.max)
    private(set) var closed = false

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
    private(set) var bindings: [UInt32: SSRCBinding] = [:]
    var transportCC = TransportCCRecorder()
    var transportCCId: UInt8 = 0
    var midId: UInt8 = 0
    var ridId: UInt8 = 0
    var repairedRidId: UInt8 = 0
    /// The media SSRC named in transport-cc feedback (any SSRC of the transport will do).
    var transportCCMediaSSRC: UInt32 = 0

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

    init(participant: ParticipantID, role: PeerRole, callId: String, dtls: DTLSSession, live: LiveObjectCounter,
         counters: LocalMediaCounters) {
        self.live = live
        self.counters = counters
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
    var inboundSSRCLimit: Int { 2 * (role == .publish ? layerCount : downTracks.count) + 4 }

    /// Whether libsrtp holds a stream for `ssrc` already.
    @inline(__always) func hasInbound(_ ssrc: UInt32) -> Bool { inboundSsrcs.contains(ssrc) }

    /// Whether a stream for one more SSRC may be made.
    var hasRoomForInbound: Bool { inboundSsrcs.count < inboundSSRCLimit }

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

    func bind(_ ssrc: UInt32, to binding: SSRCBinding) {
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

    // MARK: the transport's life

    /// The router took the transport under `id`.
    func registered(as id: ICETransportID) { iceID = id }

    /// What the DTLS session's output means for the engine.
    enum DTLSChange {
        /// Keys are in place (RFC 5764 §4.2): media may flow.
        case connected
        /// The association failed or the peer closed it; the transport must go.
        case failed(reason: String, handshakeError: Bool)
    }

    /// Applies what the DTLS session asked for: its datagrams go out (on the selected path, or
    /// back where the last record came from before ICE nominated one), its timer is kept, and
    /// on success the SRTP session is made from the exported keys.
    func apply(_ output: DTLSOutput, router: MediaTransportRouter) -> DTLSChange? {
        if let iceID {
            for datagram in output.datagrams {
                datagram.withUnsafeBytes { bytes in
                    if !router.send(bytes, on: iceID), let lastPath { router.send(bytes, to: lastPath) }
                }
            }
        }
        dtlsDeadline = output.timerDeadline
        switch output.event {
        case .connected(let material)?:
            guard let session = try? SRTPSession(keyingMaterial: material) else {
                return .failed(reason: "could not create SRTP contexts", handshakeError: false)
            }
            srtp = session
            // Parley's own RTCP (keyframe requests, receiver reports, feedback) goes out under this SSRC.
            if role == .publish { willSend(rtcpSSRC) }
            return .connected
        case .failed(let error)?:
            return .failed(reason: "DTLS failed: \(error)", handshakeError: true)
        case .closed?:
            return .failed(reason: "DTLS closed by the peer", handshakeError: false)
        case nil:
            return nil
        }
    }

    /// A DTLS record from `path`.
    func receiveDTLS(_ datagram: UnsafeRawBufferPointer, from path: FiveTuple, now: ContinuousClock.Instant,
                     router: MediaTransportRouter) -> DTLSChange? {
        lastPath = path
        return apply(dtls.receive(datagram: datagram, now: now), router: router)
    }

    /// The DTLS retransmission timer, when it is due.
    func dtlsTimerFired(now: ContinuousClock.Instant, router: MediaTransportRouter) -> DTLSChange? {
        guard !closed, let deadline = dtlsDeadline, now >= deadline else { return nil }
        return apply(dtls.handleTimeout(now: now), router: router)
    }

    /// Ends the transport: its SSRC bindings go and the router forgets it. Once only; the
    /// engine removes its tracks and down-tracks.
    func close(router: MediaTransportRouter) {
        guard !closed else { return }
        closed = true
        unbindAll()
        if let iceID { router.removeTransport(iceID) }
    }

    /// The router already dropped the transport (ICE consent expired, or it was removed).
    func lostICE() {
        iceID = nil
        path = nil
    }

    // MARK: SRTP

    /// Copies an SRTP or SRTCP packet into `buffer` and unprotects it there (RFC 3711 §3.3,
    /// §3.4); nil (counted) if the transport has no keys yet, the packet does not fit, it comes
    /// from an SSRC past `inboundSSRCLimit` (libsrtp would make a stream for it), or it fails
    /// authentication or replay protection.
    func unprotect(_ packet: UnsafeRawBufferPointer, into buffer: UnsafeMutableRawBufferPointer, rtcp: Bool) -> UnsafeRawBufferPointer? {
        // The SSRC libsrtp files the packet under is in the clear: RTP's at byte 8 (RFC 3550
        // §5.1), SRTCP's first packet's sender at byte 4 (§6.4).
        let ssrcOffset = rtcp ? 4 : 8
        guard let srtp, packet.count <= buffer.count - 64, packet.count >= ssrcOffset + 4,
              let source = packet.baseAddress, let base = buffer.baseAddress else {
            counters.drop(bytes: packet.count)
            return nil
        }
        let ssrc = packet.readBE32(at: ssrcOffset)
        let known = hasInbound(ssrc)
        guard known || hasRoomForInbound else {
            counters.add(.ssrcsRefused)
            counters.drop(bytes: packet.count)
            return nil
        }
        base.copyMemory(from: source, byteCount: packet.count)
        var length = packet.count
        do {
            if rtcp {
                try srtp.unprotectRTCP(buffer, length: &length)
            } else {
                try srtp.unprotectRTP(buffer, length: &length)
            }
        } catch {
            counters.add(.srtpErrors)
            return nil
        }
        if !known { authenticated(ssrc) }
        return UnsafeRawBufferPointer(start: base, count: length)
    }

    /// Protects the RTCP packet of `length` bytes at the start of `buffer` in place and sends
    /// it on the selected path. False when there are no keys or no path yet.
    @discardableResult
    func sendRTCP(_ buffer: UnsafeMutableRawBufferPointer, length: Int, router: MediaTransportRouter) -> Bool {
        guard length > 0, let srtp, let path else { return false }
        var length = length
        guard (try? srtp.protectRTCP(buffer, length: &length)) != nil else { return false }
        router.send(UnsafeRawBufferPointer(start: buffer.baseAddress, count: length), to: path)
        return true
    }

    // MARK: MediaTransportHandler

    func mediaTransport(_ id: ICETransportID, received packet: UnsafeRawBufferPointer, kind: MediaPacketKind,
                        from path: FiveTuple, router: MediaTransportRouter) {
        guard !closed else { return }
        delegate?.peerTransport(self, received: packet, kind: kind, from: path)
    }

    func mediaTransport(_ id: ICETransportID, selected path: FiveTuple, previous: FiveTuple?, router: MediaTransportRouter) {
        self.path = path
    }

    func mediaTransportClosed(_ id: ICETransportID, reason: ICECloseReason) {
        delegate?.peerTransportClosed(self, reason: reason)
    }
}

/// What one incoming SSRC carries: a layer of a track, as media or as its RTX repair stream.
struct SSRCBinding {
    unowned let track: PublishedTrack
    let layer: Int
    let isRTX: Bool
}
