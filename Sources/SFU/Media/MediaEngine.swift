import DTLS
import ICE
import RTCP
import SDP

/// The SFU's media plane (docs/architecture.md "The path of an RTP packet"): every peer transport, published track
/// and down-track of every call on this instance, and how they are configured and torn down.
/// The work on packets is done by the parts it holds, each testable alone: `PeerTransport`
/// (DTLS, SRTP and the SSRCs of one connection), `PublisherIngest` (binding, statistics,
/// cache), `DownTrackForwarding` (per subscriber: layer switch and header rewrite, a pure
/// decision), `RTPSender` (writing and protecting the copies) and `RTCPResponder` (NACK,
/// keyframe requests, reports, transport-cc); the packet path that joins them is
/// `MediaEngine+PacketPath`, the periodic work `MediaEngine+Timers`.
///
/// It lives on the media I/O thread and nowhere else: packets arrive through `PeerTransport`
/// synchronously from the router, are unprotected into one reused buffer, and forwarded to each
/// subscriber from a second reused buffer, with no lock, no actor hop and no allocation per
/// packet. The call signaling changes its configuration only through `MediaServer`, which runs
/// each change here with `MediaIOThread.execute`; what it must learn back (a transport closed,
/// who is speaking) leaves through `events`, a few times a second at most.
///
/// `@unchecked Sendable` because `MediaServer` hands it to the I/O thread in closures; nothing
/// outside that thread touches it.
final class MediaEngine: @unchecked Sendable {
    /// Where transports are registered and every datagram leaves: given once, at construction.
    let router: MediaTransportRouter
    let dtlsContext: DTLSContext
    let events: @Sendable (MediaEvent) -> Void
    let published: MediaCounters
    let counters = LocalMediaCounters()
    /// What the engine holds now, counted by the objects themselves (`MediaLiveObjects`).
    let live = LiveObjectCounter()
    var liveObjects: MediaLiveObjects { live.counts }
    /// The time packets and timers are handled at (the process's monotonic clock; tests drive their own).
    let clock: () -> ContinuousClock.Instant
    /// Hands freed memory back to the system, off the media thread (`MediaServer` sets it).
    /// Called after a participant whose packet caches were freed leaves, at most once per
    /// `releaseInterval`.
    var releaseMemory: (() -> Void)?
    var lastRelease: ContinuousClock.Instant?
    static let releaseInterval: Duration = .seconds(2)

    var participants: [ParticipantID: MediaParticipant] = [:]
    var tracks: [TrackID: PublishedTrack] = [:]
    var lastSpeakers: [String: [ParticipantID]] = [:]

    let ingest: PublisherIngest
    let sender: RTPSender
    let responder: RTCPResponder
    /// Received packets are copied here and unprotected in place.
    let receiveBuffer: UnsafeMutableRawBufferPointer
    static let bufferSize = 2048

    /// abs-send-time counts from here (only its low 24 bits matter).
    let epoch: ContinuousClock.Instant
    var lastFeedback: ContinuousClock.Instant
    var lastSelection: ContinuousClock.Instant
    var lastReports: ContinuousClock.Instant

    init(router: MediaTransportRouter, dtlsContext: DTLSContext, counters published: MediaCounters,
         clock: @escaping () -> ContinuousClock.Instant = { .now }, events: @escaping @Sendable (MediaEvent) -> Void) {
        self.router = router
        self.dtlsContext = dtlsContext
        self.clock = clock
        epoch = clock()
        self.published = published
        self.events = events
        receiveBuffer = .allocate(byteCount: Self.bufferSize, alignment: 16)
        ingest = PublisherIngest(counters: counters, epoch: epoch)
        sender = RTPSender(router: router, counters: counters, bufferSize: Self.bufferSize)
        responder = RTCPResponder(router: router, sender: sender, counters: counters, epoch: epoch, bufferSize: Self.bufferSize)
        lastFeedback = epoch
        lastSelection = epoch
        lastReports = epoch
    }

    deinit { receiveBuffer.deallocate() }

    // MARK: configuration (from the call signaling, through MediaServer)

    func openTransport(participant id: ParticipantID, callId: String, role: PeerRole, credentials: ICECredentials,
                       remote: RemoteTransport?) {
        let participant = participants[id] ?? MediaParticipant(id: id, callId: callId)
        participants[id] = participant
        if let old = participant.transport(role) { close(old) }
        guard let dtls = try? DTLSSession(context: dtlsContext, role: .server, remoteFingerprints: remote?.fingerprints ?? []) else {
            counters.add(.dtlsFailures)
            events(.transportClosed(id, role, reason: "could not create a DTLS session"))
            return
        }
        let transport = PeerTransport(participant: id, role: role, callId: callId, dtls: dtls, live: live, counters: counters)
        transport.delegate = self
        guard let iceID = router.addTransport(local: credentials, remoteUfrag: remote?.credentials.ufrag, handler: transport) else {
            events(.transportClosed(id, role, reason: "ICE credentials already in use"))
            return
        }
        transport.registered(as: iceID)
        participant.set(transport, for: role)
    }

    func updateRemote(participant id: ParticipantID, role: PeerRole, remote: RemoteTransport) {
        guard let transport = participants[id]?.transport(role), let iceID = transport.iceID else { return }
        router.setRemoteUfrag(remote.credentials.ufrag, for: iceID)
        handle(transport.apply(transport.dtls.setRemoteFingerprints(remote.fingerprints, now: clock()), router: router), on: transport)
    }

    /// Makes `configs` the publisher's track set: tracks not listed stop (their down-tracks go),
    /// new ones start, existing ones stay as they are.
    func setPublishedTracks(participant id: ParticipantID, _ configs: [PublishTrackConfig]) {
        guard let transport = participants[id]?.publish else { return }
        let wanted = Set(configs.map(\.id))
        for track in transport.tracks where !wanted.contains(track.id) { removeTrack(track) }
        transport.tracks.removeAll { !wanted.contains($0.id) }
        for config in configs where tracks[config.id] == nil {
            let track = PublishedTrack(id: config.id, participant: id, transport: transport, media: config.media, cname: config.cname,
                                       live: live)
            tracks[config.id] = track
            transport.tracks.append(track)
            if let ssrc = config.media.ssrc, track.layers.count == 1 {
                transport.bind(ssrc, to: SSRCBinding(track: track, layer: 0, isRTX: false))
                track.layers[0].ssrc = ssrc
                if transport.transportCCMediaSSRC == 0 { transport.transportCCMediaSSRC = ssrc }
            }
            if let rtx = config.media.rtxSSRC, track.layers.count == 1 {
                transport.bind(rtx, to: SSRCBinding(track: track, layer: 0, isRTX: true))
                track.layers[0].rtxSSRC = rtx
            }
        }
        // With BUNDLE an extension id means the same in every section (RFC 8843 §9.2), but not
        // every section carries every extension (audio has no rid): take each from where it is.
        func extensionId(_ key: KeyPath<HeaderExtensionMap, UInt8>) -> UInt8 {
            configs.lazy.map { $0.media.extensions[keyPath: key] }.first { $0 != 0 } ?? 0
        }
        transport.transportCCId = extensionId(\.transportWideCC)
        transport.midId = extensionId(\.mid)
        transport.ridId = extensionId(\.rid)
        transport.repairedRidId = extensionId(\.repairedRid)
    }

    /// Makes `configs` the subscriber's down-track set (what its last answer accepted).
    func setDownTracks(participant id: ParticipantID, _ configs: [DownTrackConfig]) {
        guard let transport = participants[id]?.subscribe else { return }
        // Wishes for tracks that are gone go too: a long call would otherwise keep one per track ever seen.
        transport.qualityWishes = transport.qualityWishes.filter { tracks[$0.key] != nil }
        let wanted = Dictionary(configs.map { ($0.ssrc, $0) }, uniquingKeysWith: { a, _ in a })
        for (ssrc, down) in transport.downTracks where wanted[ssrc]?.track != down.track.id {
            detach(down)
        }
        for config in configs where transport.downTracks[config.ssrc] == nil {
            guard let track = tracks[config.track] else { continue }
            let down = DownTrack(track: track, subscriber: transport, config: config, live: live)
            if let wish = transport.qualityWishes[config.track] { down.quality = wish }
            track.downTracks.append(down)
            transport.downTracks[config.ssrc] = down
            if transport.isConnected { activate(down) }
        }
    }

    func setQuality(participant id: ParticipantID, track: TrackID, quality: SimulcastQuality) {
        guard let transport = participants[id]?.subscribe else { return }
        transport.qualityWishes[track] = quality  // also for a down-track its next answer creates
        for down in transport.downTracks.values where down.track.id == track {
            down.quality = quality
            down.forwarding.endProbe()
            select(down, estimate: transport.estimator.estimate / max(1, videoDownTrackCount(transport)))
        }
    }

    func removeParticipant(_ id: ParticipantID) {
        guard let participant = participants.removeValue(forKey: id) else { return }
        let caches = live.counts.packetCaches
        for transport in [participant.publish, participant.subscribe].compactMap({ $0 }) { close(transport) }
        lastSpeakers[participant.callId]?.removeAll { $0 == id }
        if live.counts.packetCaches < caches { memoryFreed() }
    }

    /// Packet caches (768 KiB each) were freed: asks for the memory to be handed back to the
    /// system. glibc keeps freed blocks of a thread's arena for reuse and only returns the top of
    /// the heap by itself, so without this a burst of tracks leaves the process large after they
    /// are gone (BENCHMARKS.md "Call flood").
    private func memoryFreed() {
        guard let releaseMemory else { return }
        let now = clock()
        if let last = lastRelease, now - last < Self.releaseInterval { return }
        lastRelease = now
        releaseMemory()
    }

    // MARK: internals

    func close(_ transport: PeerTransport) {
        guard !transport.closed else { return }
        for track in transport.tracks { removeTrack(track) }
        transport.tracks.removeAll()
        for down in transport.downTracks.values { detach(down) }
        transport.downTracks.removeAll()
        transport.close(router: router)
    }

    private func removeTrack(_ track: PublishedTrack) {
        tracks[track.id] = nil
        for down in track.downTracks {
            down.active = false
            down.subscriber.downTracks[down.config.ssrc] = nil
            stopSending(down)
        }
        track.downTracks.removeAll()
        for (ssrc, binding) in track.transport.bindings where binding.track === track { track.transport.unbind(ssrc) }
    }

    private func detach(_ down: DownTrack) {
        down.active = false
        down.track.downTracks.removeAll { $0 === down }
        down.subscriber.downTracks[down.config.ssrc] = nil
        stopSending(down)
    }

    /// The subscriber's SRTP streams for a down-track that went.
    private func stopSending(_ down: DownTrack) {
        down.subscriber.stoppedSending(down.config.ssrc)
        if let rtx = down.config.rtxSSRC { down.subscriber.stoppedSending(rtx) }
    }

    /// Starts a down-track once its transport has keys: picks its layer and asks for a keyframe.
    func activate(_ down: DownTrack) {
        guard !down.active else { return }
        down.active = true
        down.subscriber.willSend(down.config.ssrc)
        if let rtx = down.config.rtxSSRC { down.subscriber.willSend(rtx) }
        if down.track.isVideo {
            // Also for one encoding: a `call.quality` "off" sent before the answer holds it.
            select(down, estimate: down.subscriber.estimator.estimate / max(1, videoDownTrackCount(down.subscriber)))
            if let layer = down.targetLayer { responder.requestKeyframe(down.track, layer: layer, now: clock()) }
        }
    }

    func videoDownTrackCount(_ transport: PeerTransport) -> Int {
        var count = 0
        for down in transport.downTracks.values where down.track.isVideo && down.quality != .off { count += 1 }
        return count
    }

    /// Chooses the layer of a down-track (`DownTrackForwarding.choose`) and asks for the
    /// keyframe a change waits for.
    func select(_ down: DownTrack, estimate: Int) {
        let now = clock()
        let track = down.track
        let bitrates = track.layers.count > 1 ? track.selectionBitrates(now: now) : [0]
        if let layer = down.forwarding.choose(quality: down.quality, isVideo: track.isVideo, layerBitrates: bitrates, estimate: estimate,
                                              active: down.active, now: now) {
            responder.requestKeyframe(track, layer: layer, now: now)
        }
    }

    /// What a transport's DTLS session reported: connected starts its down-tracks, failure ends it.
    func handle(_ change: PeerTransport.DTLSChange?, on transport: PeerTransport) {
        switch change {
        case .connected?:
            events(.connected(transport.participant, transport.role))
            if transport.role == .subscribe {
                for down in transport.downTracks.values { activate(down) }
            }
        case .failed(let reason, let handshakeError)?:
            if handshakeError { counters.add(.dtlsFailures) }
            guard !transport.closed else { return }
            close(transport)
            events(.transportClosed(transport.participant, transport.role, reason: reason))
        case nil:
            break
        }
    }
}

/// The engine's view of one participant: its call and its two transports.
final class MediaParticipant {
    let id: ParticipantID
    let callId: String
    var publish: PeerTransport?
    var subscribe: PeerTransport?

    init(id: ParticipantID, callId: String) {
        self.id = id
        self.callId = callId
    }

    func transport(_ role: PeerRole) -> PeerTransport? { role == .publish ? publish : subscribe }

    func set(_ transport: PeerTransport, for role: PeerRole) {
        switch role {
        case .publish: publish = transport
        case .subscribe: subscribe = transport
        }
    }
}
