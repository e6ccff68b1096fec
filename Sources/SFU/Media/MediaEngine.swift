import DTLS
import ICE
import RTCP
import SDP

/// The SFU's media plane (docs/architecture.md "The path of an RTP packet"): every peer transport, published track
/// and down-track of every call on this instance, and the packet path between them.
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
    let dtlsContext: DtlsContext
    let events: @Sendable (MediaEvent) -> Void
    let published: MediaCounters
    var counters = LocalMediaCounters()
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

    /// Reused packet buffers: received packets are copied here and unprotected in place; each
    /// forwarded copy is written into `sendBuffer` and protected in place.
    let receiveBuffer: UnsafeMutableRawBufferPointer
    let sendBuffer: UnsafeMutableRawBufferPointer
    let rtcpBuffer: UnsafeMutableRawBufferPointer
    static let bufferSize = 2048

    /// abs-send-time counts from here (only its low 24 bits matter).
    let epoch: ContinuousClock.Instant
    var lastFeedback: ContinuousClock.Instant
    var lastSelection: ContinuousClock.Instant
    var lastReports: ContinuousClock.Instant

    init(dtlsContext: DtlsContext, counters: MediaCounters, clock: @escaping () -> ContinuousClock.Instant = { .now },
         events: @escaping @Sendable (MediaEvent) -> Void) {
        self.dtlsContext = dtlsContext
        self.clock = clock
        epoch = clock()
        self.published = counters
        self.events = events
        receiveBuffer = .allocate(byteCount: Self.bufferSize, alignment: 16)
        sendBuffer = .allocate(byteCount: Self.bufferSize, alignment: 16)
        rtcpBuffer = .allocate(byteCount: Self.bufferSize, alignment: 16)
        lastFeedback = epoch
        lastSelection = epoch
        lastReports = epoch
    }

    deinit {
        receiveBuffer.deallocate()
        sendBuffer.deallocate()
        rtcpBuffer.deallocate()
    }

    // MARK: configuration (from the call signaling, through MediaServer)

    func openTransport(participant id: ParticipantID, callId: String, role: PeerRole, credentials: IceCredentials,
                       remote: RemoteTransport?, router: MediaTransportRouter) {
        let participant = participants[id] ?? MediaParticipant(id: id, callId: callId)
        participants[id] = participant
        if let old = participant.transport(role) { close(old, router: router) }
        guard let dtls = try? DtlsSession(context: dtlsContext, role: .server, remoteFingerprints: remote?.fingerprints ?? []) else {
            counters.add(.dtlsFailures)
            events(.transportClosed(id, role, reason: "could not create a DTLS session"))
            return
        }
        let transport = PeerTransport(engine: self, participant: id, role: role, callId: callId, dtls: dtls)
        guard let iceID = router.addTransport(local: credentials, remoteUfrag: remote?.credentials.ufrag, handler: transport) else {
            events(.transportClosed(id, role, reason: "ICE credentials already in use"))
            return
        }
        transport.iceID = iceID
        participant.set(transport, for: role)
    }

    func updateRemote(participant id: ParticipantID, role: PeerRole, remote: RemoteTransport, router: MediaTransportRouter) {
        guard let transport = participants[id]?.transport(role), let iceID = transport.iceID else { return }
        router.setRemoteUfrag(remote.credentials.ufrag, for: iceID)
        apply(transport.dtls.setRemoteFingerprints(remote.fingerprints, now: clock()), to: transport, router: router)
    }

    /// Makes `configs` the publisher's track set: tracks not listed stop (their down-tracks go),
    /// new ones start, existing ones stay as they are.
    func setPublishedTracks(participant id: ParticipantID, _ configs: [PublishTrackConfig], router: MediaTransportRouter) {
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
                transport.bind(ssrc, to: SsrcBinding(track: track, layer: 0, isRTX: false))
                track.layers[0].ssrc = ssrc
                if transport.transportCCMediaSsrc == 0 { transport.transportCCMediaSsrc = ssrc }
            }
            if let rtx = config.media.rtxSsrc, track.layers.count == 1 {
                transport.bind(rtx, to: SsrcBinding(track: track, layer: 0, isRTX: true))
                track.layers[0].rtxSsrc = rtx
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
    func setDownTracks(participant id: ParticipantID, _ configs: [DownTrackConfig], router: MediaTransportRouter) {
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
            if transport.isConnected { activate(down, router: router) }
        }
    }

    func setQuality(participant id: ParticipantID, track: TrackID, quality: SimulcastQuality, router: MediaTransportRouter) {
        guard let transport = participants[id]?.subscribe else { return }
        transport.qualityWishes[track] = quality  // also for a down-track its next answer creates
        for down in transport.downTracks.values where down.track.id == track {
            down.quality = quality
            down.probeUntil = nil  // a new wish ends a probe at once
            select(down, estimate: transport.estimator.estimate / max(1, videoDownTrackCount(transport)), router: router)
        }
    }

    func removeParticipant(_ id: ParticipantID, router: MediaTransportRouter) {
        guard let participant = participants.removeValue(forKey: id) else { return }
        let caches = live.counts.packetCaches
        for transport in [participant.publish, participant.subscribe].compactMap({ $0 }) { close(transport, router: router) }
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

    /// How long a subscriber stays on a layer below its wish before trying the next one up,
    /// and how long such a try lasts at least.
    static let probeAfter: Duration = .seconds(10)
    static let probeHold: Duration = .seconds(4)

    func close(_ transport: PeerTransport, router: MediaTransportRouter) {
        guard !transport.closed else { return }
        transport.closed = true
        for track in transport.tracks { removeTrack(track) }
        transport.tracks.removeAll()
        transport.unbindAll()
        for down in transport.downTracks.values { detach(down) }
        transport.downTracks.removeAll()
        if let iceID = transport.iceID { router.removeTransport(iceID) }
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
        if let rtx = down.config.rtxSsrc { down.subscriber.stoppedSending(rtx) }
    }

    /// Starts a down-track once its transport has keys: picks its layer and asks for a keyframe.
    func activate(_ down: DownTrack, router: MediaTransportRouter) {
        guard !down.active else { return }
        down.active = true
        down.subscriber.willSend(down.config.ssrc)
        if let rtx = down.config.rtxSsrc { down.subscriber.willSend(rtx) }
        if down.track.isVideo {
            // Also for one encoding: a `call.quality` "off" sent before the answer holds it.
            select(down, estimate: down.subscriber.estimator.estimate / max(1, videoDownTrackCount(down.subscriber)), router: router)
            if let layer = down.targetLayer { requestKeyframe(down.track, layer: layer, now: clock(), router: router) }
        }
    }

    func videoDownTrackCount(_ transport: PeerTransport) -> Int {
        var count = 0
        for down in transport.downTracks.values where down.track.isVideo && down.quality != .off { count += 1 }
        return count
    }

    /// Chooses the layer of a down-track; a change waits for the new layer's keyframe.
    ///
    /// With no layer (`off`) the current one goes too, so the packet path forwards nothing: it
    /// only looks at the target when a packet's layer is not the current one. Coming back is
    /// then a switch from nothing, started on a keyframe asked for at once (RFC 4585 §6.3.1),
    /// with the numbering continued across the gap by the rewriter.
    func select(_ down: DownTrack, estimate: Int, router: MediaTransportRouter) {
        let track = down.track
        guard track.layers.count > 1 else {
            // One encoding: the only choice is whether to forward it.
            let target: Int? = down.quality == .off && track.isVideo ? nil : 0
            guard target != down.targetLayer else { return }
            down.targetLayer = target
            if target == nil {
                down.currentLayer = nil
            } else if down.active, down.currentLayer == nil {
                requestKeyframe(track, layer: 0, now: clock(), router: router)
            }
            return
        }
        let now = clock()
        let bitrates = track.layers.map { layer -> Int in
            if layer.bitrate > 0 { return layer.bitrate }
            if let at = layer.lastPacketAt, now - at < .seconds(2) { return 1 }
            return 0
        }
        if let hold = down.probeUntil, now < hold { return }
        down.probeUntil = nil
        var target = LayerSelector.select(quality: down.quality, layerBitrates: bitrates, estimate: estimate)
        // A receiver-side estimate (REMB) only grows with what arrives, so a subscriber held
        // below its wish would never be offered the better layer again: after a while on a
        // layer, it is moved one live layer up and held there long enough for its estimate
        // to follow. If the estimate does not, the next choice moves it back down.
        if let selected = target, selected == down.currentLayer, let since = down.layerSince, now - since >= Self.probeAfter,
           let up = LayerSelector.probe(quality: down.quality, layerBitrates: bitrates, from: selected) {
            target = up
            down.probeUntil = now + Self.probeHold
        }
        guard target != down.targetLayer else { return }
        down.targetLayer = target
        if target == nil { down.currentLayer = nil }
        if let target, target != down.currentLayer, down.active { requestKeyframe(track, layer: target, now: now, router: router) }
    }

    /// Sends a PLI (RFC 4585 §6.3.1) for one layer to its publisher, rate limited. A request
    /// that cannot go now (too soon after the last, or the publisher not connected yet) is
    /// remembered and sent by the ticker, unless a keyframe arrives first.
    func requestKeyframe(_ track: PublishedTrack, layer index: Int, now: ContinuousClock.Instant, router: MediaTransportRouter) {
        guard track.layers.indices.contains(index) else { return }
        let layer = track.layers[index]
        let publisher = track.transport
        guard let ssrc = layer.ssrc, let srtp = publisher.srtp, let path = publisher.path,
              layer.keyframeRequests.allow(now: now) else {
            layer.keyframeRequests.defer()
            return
        }
        var length = PictureLossIndication.write(into: rtcpBuffer, senderSsrc: publisher.rtcpSsrc, mediaSsrc: ssrc)
        guard length > 0, (try? srtp.protectRTCP(rtcpBuffer, length: &length)) != nil else { return }
        router.send(UnsafeRawBufferPointer(start: rtcpBuffer.baseAddress, count: length), to: path)
        counters.add(.keyframeRequestsSent)
    }

    func transportClosed(_ transport: PeerTransport, reason: IceCloseReason) {
        guard !transport.closed else { return }
        if reason == .consentExpired { counters.add(.transportsClosedByConsent) }
        transport.iceID = nil  // the router already forgot it
        transport.path = nil
        events(.transportClosed(transport.participant, transport.role,
                                reason: reason == .consentExpired ? "ICE consent expired" : "transport removed"))
    }

    /// Applies what the DTLS session asked for: datagrams, the timer, and a state change.
    func apply(_ output: DtlsOutput, to transport: PeerTransport, router: MediaTransportRouter) {
        if let iceID = transport.iceID {
            for datagram in output.datagrams {
                datagram.withUnsafeBytes { bytes in
                    if !router.send(bytes, on: iceID), let path = transport.lastPath { router.send(bytes, to: path) }
                }
            }
        }
        transport.dtlsDeadline = output.timerDeadline
        switch output.event {
        case .connected(let material)?:
            guard let srtp = try? SrtpSession(keyingMaterial: material) else {
                fail(transport, reason: "could not create SRTP contexts", router: router)
                return
            }
            transport.srtp = srtp
            // Parley's own RTCP (keyframe requests, receiver reports, feedback) goes out under this SSRC.
            if transport.role == .publish { transport.willSend(transport.rtcpSsrc) }
            events(.connected(transport.participant, transport.role))
            if transport.role == .subscribe {
                for down in transport.downTracks.values { activate(down, router: router) }
            }
        case .failed(let error)?:
            counters.add(.dtlsFailures)
            fail(transport, reason: "DTLS failed: \(error)", router: router)
        case .closed?:
            fail(transport, reason: "DTLS closed by the peer", router: router)
        case nil:
            break
        }
    }

    private func fail(_ transport: PeerTransport, reason: String, router: MediaTransportRouter) {
        guard !transport.closed else { return }
        close(transport, router: router)
        events(.transportClosed(transport.participant, transport.role, reason: reason))
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
