import DTLS
import ICE
import RTCP
import RTP

/// RTCP from peers: keyframe requests, NACKs and bandwidth feedback from subscribers, sender
/// reports from publishers (docs/architecture.md "The path of an RTP packet", RTCP).
extension MediaEngine {
    func receiveRTCP(_ packet: UnsafeRawBufferPointer, on transport: PeerTransport, now: ContinuousClock.Instant,
                     router: MediaTransportRouter) {
        guard let plain = unprotect(packet, on: transport, rtcp: true) else { return }
        var packets = RtcpCompoundIterator(plain)
        while let rtcp = packets.next() {
            switch transport.role {
            case .subscribe: subscriberFeedback(rtcp, on: transport, now: now, router: router)
            case .publish: publisherReport(rtcp, on: transport, now: now)
            }
        }
    }

    private func subscriberFeedback(_ rtcp: RtcpPacketView, on transport: PeerTransport, now: ContinuousClock.Instant,
                                    router: MediaTransportRouter) {
        switch (rtcp.packetType, rtcp.format) {
        case (206, 1):  // PLI, RFC 4585 §6.3.1
            guard let pli = PictureLossIndication(parsing: rtcp), let down = transport.downTracks[pli.mediaSsrc] else { return }
            counters.add(.keyframeRequestsReceived)
            if let layer = down.targetLayer ?? down.currentLayer { requestKeyframe(down.track, layer: layer, now: now, router: router) }
        case (206, 4):  // FIR, RFC 5104 §4.3.1
            guard let fir = FullIntraRequest(parsing: rtcp), let down = transport.downTracks[fir.ssrc] else { return }
            counters.add(.keyframeRequestsReceived)
            if let layer = down.targetLayer ?? down.currentLayer { requestKeyframe(down.track, layer: layer, now: now, router: router) }
        case (206, 15):  // REMB
            guard let remb = Remb(parsing: rtcp) else { return }
            transport.estimator.remb(bitrate: remb.bitrate, now: now)
        case (205, 1):  // Generic NACK, RFC 4585 §6.2.1
            guard let nack = GenericNack(parsing: rtcp), let down = transport.downTracks[nack.mediaSsrc] else { return }
            counters.add(.nacksReceived, nack.lostCount)
            // Nothing in it can be answered (audio has no cache; a spent budget answers nothing):
            // counted per entry, so a flood of them costs no work per number.
            guard down.track.isVideo, transport.retransmitBudget.available >= Self.fullPacketCost else {
                counters.add(down.track.isVideo ? .retransmissionsDropped : .retransmissionsMissed, nack.lostCount)
                return
            }
            let at = microseconds(since: epoch, now)
            let interval = Self.repeatInterval(roundTrip: transport.roundTrip)
            nack.forEachLostSequence { lost in
                retransmit(lost, for: down, at: at, repeatInterval: interval, now: now, router: router)
            }
        case (201, _):
            guard let report = ReceiverReport(parsing: rtcp) else { return }
            for index in 0..<report.count {
                if let block = report.reportBlock(at: index), transport.downTracks[block.ssrc] != nil {
                    transport.estimator.receiverReport(fractionLost: block.fractionLost, now: now)
                    if let roundTrip = Self.roundTrip(lastSR: block.lastSR, delaySinceLastSR: block.delaySinceLastSR, ntpNow: Self.ntpNow()) {
                        transport.roundTrip = roundTrip
                    }
                }
            }
        default:
            break
        }
    }

    /// How long a retransmitted sequence number is not sent again: a round trip (the
    /// retransmission cannot have arrived sooner), at least `minimumRepeatInterval`, or
    /// `unknownRoundTripInterval` before the subscriber's first receiver report says.
    static let minimumRepeatInterval: Duration = .milliseconds(20)
    static let unknownRoundTripInterval: Duration = .milliseconds(50)

    static func repeatInterval(roundTrip: Duration?) -> Int64 {
        let interval = roundTrip.map { max($0, minimumRepeatInterval) } ?? unknownRoundTripInterval
        return interval.components.seconds * 1_000_000 + interval.components.attoseconds / 1_000_000_000_000
    }

    /// The round trip from a report block about one of Parley's sender reports (RFC 3550 §6.4.1:
    /// arrival - LSR - DLSR, in 1/65536 s); nil without a report, or a value that cannot be
    /// one (over 10 s: a bad or stale LSR).
    static func roundTrip(lastSR: UInt32, delaySinceLastSR: UInt32, ntpNow: UInt64) -> Duration? {
        guard lastSR != 0 else { return nil }
        let arrival = UInt32(truncatingIfNeeded: ntpNow >> 16)
        let units = arrival &- lastSR &- delaySinceLastSR
        guard units < 10 << 16 else { return nil }
        return .microseconds((Int64(units) * 1_000_000) >> 16)
    }

    /// Answers one NACKed sequence number (in the subscriber's numbering) from the cache of the
    /// layer it is receiving: as RTX when its answer kept RTX (RFC 4588), else as the packet again.
    ///
    /// Only from the cache (a NACK never reaches the publisher), a number at most once per
    /// `repeatInterval` (`RetransmitHistory`; also a number listed twice in one NACK), and only
    /// within the subscriber's `RetransmitBudget`: what is refused is counted and dropped.
    /// `at` is `now` in microseconds since the engine's epoch.
    ///
    /// A budget that cannot cover a full-size packet is checked first, so a flood (thousands of
    /// numbers per NACK) costs one comparison per number once the budget is spent: no cache
    /// lookup, no SRTP, no send. (A smaller packet waits until the budget has a full one's worth.)
    private func retransmit(_ lost: UInt16, for down: DownTrack, at: Int64, repeatInterval: Int64, now: ContinuousClock.Instant,
                            router: MediaTransportRouter) {
        guard down.subscriber.retransmitBudget.available >= Self.fullPacketCost else {
            counters.add(.retransmissionsDropped)
            return
        }
        guard let layerIndex = down.currentLayer, let cache = down.track.layers[layerIndex].cache,
              let input = down.rewriter.input(forOutput: lost), let entry = cache.entry(input) else {
            counters.add(.retransmissionsMissed)
            return
        }
        if down.retransmitted?.isRecent(lost, now: at, interval: repeatInterval) == true {
            counters.add(.retransmissionsRepeated)
            return
        }
        // What the copy costs on the wire, near enough: header with abs-send-time, the RTX
        // original sequence number, payload, SRTP tag.
        guard down.subscriber.retransmitBudget.spend(bytes: entry.payload.count + Self.retransmitOverhead) else {
            counters.add(.retransmissionsDropped)
            return
        }
        let vp8 = down.track.media.codec.name == .vp8 ? Vp8Descriptor(entry.payload) : nil
        let pictureId = vp8?.pictureId.map { down.rewriter.pictureId(for: $0) }
        let tl0 = vp8?.tl0PicIdx.map { down.rewriter.tl0(for: $0) }
        let absSendTime = AbsSendTime.value(microsecondsSinceStart: UInt64(microseconds(since: epoch, now)))
        let timestamp = down.rewriter.timestamp(for: entry.timestamp)
        let sent: Bool
        if let rtxSsrc = down.config.rtxSsrc, let rtxPayloadType = down.config.rtxPayloadType {
            sent = send(entry.payload, to: down, marker: entry.marker, payloadType: rtxPayloadType, sequence: down.rtxSequence,
                        timestamp: timestamp, ssrc: rtxSsrc, originalSequence: lost, vp8: vp8, pictureId: pictureId, tl0: tl0,
                        audioLevel: nil, absSendTime: absSendTime, retransmission: true, router: router)
            if sent { down.rtxSequence &+= 1 }
        } else {
            sent = send(entry.payload, to: down, marker: entry.marker, payloadType: down.config.payloadType, sequence: lost,
                        timestamp: timestamp, ssrc: down.config.ssrc, originalSequence: nil, vp8: vp8, pictureId: pictureId, tl0: tl0,
                        audioLevel: nil, absSendTime: absSendTime, retransmission: true, router: router)
        }
        if sent {
            counters.add(.retransmissions)
            down.retransmitted?.record(lost, now: at)
        }
    }

    static let retransmitOverhead = 40
    /// What the largest retransmission costs: a 1200-byte payload (browsers packetize below
    /// that) plus the overhead.
    static let fullPacketCost = 1200 + retransmitOverhead

    private func publisherReport(_ rtcp: RtcpPacketView, on transport: PeerTransport, now: ContinuousClock.Instant) {
        guard rtcp.packetType == 200, let report = SenderReport(parsing: rtcp), let binding = transport.bindings[report.ssrc],
              !binding.isRTX else { return }
        let layer = binding.track.layers[binding.layer]
        // Only the layer's current SSRC: an old one still reporting speaks of another stream.
        guard layer.ssrc == report.ssrc else { return }
        layer.statistics.senderReport(ntp: report.ntpTimestamp, rtpTimestamp: report.rtpTimestamp, now: now)
    }
}
