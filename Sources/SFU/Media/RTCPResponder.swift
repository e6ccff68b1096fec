import Foundation
import ICE
import RTCP
import RTP

/// Parley's side of RTCP on every transport: it answers what subscribers ask (NACKs from the
/// publisher's packet cache, RFC 4585 §6.2.1 and RFC 4588; keyframe requests passed on to the
/// publisher, paced, RFC 4585 §6.3.1 and RFC 5104 §4.3.1), takes in what peers report (REMB
/// and receiver reports for the subscriber's estimate and round trip, sender reports for the
/// publisher's timing), and writes Parley's own reports: transport-cc feedback and receiver
/// reports to publishers, sender reports with CNAMEs to subscribers (RFC 3550 §6.4).
/// Confined to the media thread; everything is written in one reused buffer.
final class RTCPResponder {
    private let counters: LocalMediaCounters
    private let sender: RTPSender
    private let router: MediaTransportRouter
    private let buffer: UnsafeMutableRawBufferPointer
    /// abs-send-time and NACK timing count from here.
    private let epoch: ContinuousClock.Instant

    init(router: MediaTransportRouter, sender: RTPSender, counters: LocalMediaCounters, epoch: ContinuousClock.Instant,
         bufferSize: Int) {
        self.router = router
        self.sender = sender
        self.counters = counters
        self.epoch = epoch
        buffer = .allocate(byteCount: bufferSize, alignment: 16)
    }

    deinit { buffer.deallocate() }

    // MARK: what peers send

    /// One unprotected compound RTCP packet from `transport`.
    func receive(_ compound: UnsafeRawBufferPointer, on transport: PeerTransport, now: ContinuousClock.Instant) {
        var packets = RTCPCompoundIterator(compound)
        while let rtcp = packets.next() {
            switch transport.role {
            case .subscribe: subscriberFeedback(rtcp, on: transport, now: now)
            case .publish: publisherReport(rtcp, on: transport, now: now)
            }
        }
    }

    private func subscriberFeedback(_ rtcp: RTCPPacketView, on transport: PeerTransport, now: ContinuousClock.Instant) {
        switch (rtcp.packetType, rtcp.format) {
        case (206, 1):  // PLI, RFC 4585 §6.3.1
            guard let pli = PictureLossIndication(parsing: rtcp), let down = transport.downTracks[pli.mediaSSRC] else { return }
            counters.add(.keyframeRequestsReceived)
            if let layer = down.targetLayer ?? down.currentLayer { requestKeyframe(down.track, layer: layer, now: now) }
        case (206, 4):  // FIR, RFC 5104 §4.3.1
            guard let fir = FullIntraRequest(parsing: rtcp), let down = transport.downTracks[fir.ssrc] else { return }
            counters.add(.keyframeRequestsReceived)
            if let layer = down.targetLayer ?? down.currentLayer { requestKeyframe(down.track, layer: layer, now: now) }
        case (206, 15):  // REMB
            guard let remb = REMB(parsing: rtcp) else { return }
            transport.estimator.remb(bitrate: remb.bitrate, now: now)
        case (205, 1):  // Generic NACK, RFC 4585 §6.2.1
            guard let nack = GenericNACK(parsing: rtcp), let down = transport.downTracks[nack.mediaSSRC] else { return }
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
                retransmit(lost, for: down, at: at, repeatInterval: interval, now: now)
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

    private func publisherReport(_ rtcp: RTCPPacketView, on transport: PeerTransport, now: ContinuousClock.Instant) {
        guard rtcp.packetType == 200, let report = SenderReport(parsing: rtcp), let binding = transport.bindings[report.ssrc],
              !binding.isRTX else { return }
        let layer = binding.track.layers[binding.layer]
        // Only the layer's current SSRC: an old one still reporting speaks of another stream.
        guard layer.ssrc == report.ssrc else { return }
        layer.statistics.senderReport(ntp: report.ntpTimestamp, rtpTimestamp: report.rtpTimestamp, now: now)
    }

    // MARK: NACK

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

    static let retransmitOverhead = 40
    /// What the largest retransmission costs: a 1200-byte payload (browsers packetize below
    /// that) plus the overhead.
    static let fullPacketCost = 1200 + retransmitOverhead

    /// Answers one NACKed sequence number (in the subscriber's numbering) from the cache of the
    /// layer it is receiving: as RTX when its answer kept RTX (RFC 4588), else as the packet again.
    ///
    /// Only from the cache (a NACK never reaches the publisher), a number at most once per
    /// `repeatInterval` (`RetransmitHistory`; also a number listed twice in one NACK), and only
    /// within the subscriber's `RetransmitBudget`: what is refused is counted and dropped.
    /// `at` is `now` in microseconds since the epoch.
    ///
    /// A budget that cannot cover a full-size packet is checked first, so a flood (thousands of
    /// numbers per NACK) costs one comparison per number once the budget is spent: no cache
    /// lookup, no SRTP, no send. (A smaller packet waits until the budget has a full one's worth.)
    private func retransmit(_ lost: UInt16, for down: DownTrack, at: Int64, repeatInterval: Int64, now: ContinuousClock.Instant) {
        guard down.subscriber.retransmitBudget.available >= Self.fullPacketCost else {
            counters.add(.retransmissionsDropped)
            return
        }
        let rewriter = down.forwarding.rewriter
        guard let layerIndex = down.currentLayer, let cache = down.track.layers[layerIndex].cache,
              let input = rewriter.input(forOutput: lost), let entry = cache.entry(input) else {
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
        let vp8 = down.track.media.codec.name == .vp8 ? VP8Descriptor(entry.payload) : nil
        var packet = RTPSender.Packet(
            marker: entry.marker, payloadType: down.config.payloadType, sequence: lost,
            timestamp: rewriter.timestamp(for: entry.timestamp), ssrc: down.config.ssrc, vp8: vp8,
            pictureId: vp8?.pictureId.map { rewriter.pictureId(for: $0) }, tl0: vp8?.tl0PicIdx.map { rewriter.tl0(for: $0) },
            absSendTime: AbsSendTime.value(microsecondsSinceStart: UInt64(microseconds(since: epoch, now))))
        let sent: Bool
        if let rtxSSRC = down.config.rtxSSRC, let rtxPayloadType = down.config.rtxPayloadType {
            packet.payloadType = rtxPayloadType
            packet.sequence = down.rtxSequence
            packet.ssrc = rtxSSRC
            packet.originalSequence = lost
            sent = sender.send(entry.payload, packet, to: down, retransmission: true)
            if sent { down.rtxSequence &+= 1 }
        } else {
            sent = sender.send(entry.payload, packet, to: down, retransmission: true)
        }
        if sent {
            counters.add(.retransmissions)
            down.retransmitted?.record(lost, now: at)
        }
    }

    // MARK: keyframe requests

    /// Sends a PLI (RFC 4585 §6.3.1) for one layer to its publisher, rate limited. A request
    /// that cannot go now (too soon after the last, or the publisher not connected yet) is
    /// remembered and sent by the ticker, unless a keyframe arrives first.
    func requestKeyframe(_ track: PublishedTrack, layer index: Int, now: ContinuousClock.Instant) {
        guard track.layers.indices.contains(index) else { return }
        let layer = track.layers[index]
        let publisher = track.transport
        guard let ssrc = layer.ssrc, publisher.isConnected, publisher.path != nil, layer.keyframeRequests.allow(now: now) else {
            layer.keyframeRequests.defer()
            return
        }
        let length = PictureLossIndication.write(into: buffer, senderSSRC: publisher.rtcpSSRC, mediaSSRC: ssrc)
        if publisher.sendRTCP(buffer, length: length, router: router) { counters.add(.keyframeRequestsSent) }
    }

    // MARK: Parley's reports

    /// transport-cc feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1) for
    /// what arrived since the last one, so the publisher's send-side estimator can work.
    func sendTransportFeedback(_ transport: PeerTransport) {
        guard transport.isConnected, transport.path != nil else { return }
        for _ in 0..<4 {
            let length = transport.transportCC.writeFeedback(
                into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<1200]), senderSSRC: transport.rtcpSSRC,
                mediaSSRC: transport.transportCCMediaSSRC)
            guard transport.sendRTCP(buffer, length: length, router: router) else { return }
        }
    }

    /// One receiver report with a block per received stream (RFC 3550 §6.4.2; at most 31
    /// blocks per report, which a publisher's few layers never reach).
    func sendReceiverReports(_ transport: PeerTransport, now: ContinuousClock.Instant) {
        guard transport.isConnected, transport.path != nil else { return }
        var blocks: [ReportBlock] = []
        for track in transport.tracks {
            for layer in track.layers {
                guard let ssrc = layer.ssrc, let stats = layer.statistics.report(now: now) else { continue }
                blocks.append(ReportBlock(ssrc: ssrc, fractionLost: stats.fractionLost, cumulativeLost: stats.cumulativeLost,
                                          highestSequence: stats.extendedHighest, jitter: stats.jitter, lastSR: stats.lastSR,
                                          delaySinceLastSR: stats.delaySinceLastSR))
            }
        }
        guard !blocks.isEmpty else { return }
        let length = blocks.withUnsafeBufferPointer { ReceiverReport.write(into: buffer, senderSSRC: transport.rtcpSSRC, blocks: $0) }
        transport.sendRTCP(buffer, length: length, router: router)
    }

    /// A sender report with a CNAME per forwarded stream (RFC 3550 §6.4.1, §6.5.1).
    ///
    /// Its RTP timestamp is the publisher's own: the one of the source layer's last sender
    /// report, advanced by the time since it arrived and moved into this subscriber's timestamp
    /// space. A receiver syncs a participant's audio and video by these pairings (§6.4.1), and
    /// only the publisher knows which media instants belong together; the audio and video
    /// reports cross the same path, so their arrival times keep that relation. Before the
    /// publisher's first report, the last timestamp sent advanced by the time since stands in.
    func sendSenderReports(_ transport: PeerTransport, now: ContinuousClock.Instant) {
        guard transport.isConnected, transport.path != nil else { return }
        let ntp = Self.ntpNow()
        for (ssrc, down) in transport.downTracks where down.packetsSent > 0 {
            let clockRate = down.track.media.codec.clockRate
            let rewriter = down.forwarding.rewriter
            var rtpTimestamp = rewriter.lastTimestamp
            if let current = down.currentLayer, let report = down.track.layers[current].statistics.senderReportPairing {
                rtpTimestamp = rewriter.timestamp(for: report.rtpTimestamp &+ UInt32(truncatingIfNeeded: ticks(since: report.at, now, clockRate: clockRate)))
            } else if let sentAt = rewriter.lastSentAt {
                rtpTimestamp &+= UInt32(truncatingIfNeeded: ticks(since: sentAt, now, clockRate: clockRate))
            }
            var length = SenderReport.write(into: buffer, ssrc: ssrc, ntpTimestamp: ntp, rtpTimestamp: rtpTimestamp,
                                            packetCount: down.packetsSent, octetCount: down.octetsSent)
            guard length > 0 else { continue }
            length += down.track.cname.withUnsafeBytes { cname in
                SDES.writeCname(into: UnsafeMutableRawBufferPointer(rebasing: buffer[length...]), ssrc: ssrc, cname: cname)
            }
            transport.sendRTCP(buffer, length: length, router: router)
        }
    }

    /// The wall clock as a 64-bit NTP timestamp (RFC 3550 §4: seconds since 1900, 32.32 fixed point).
    static func ntpNow() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        let seconds = UInt64(time.tv_sec) + 2_208_988_800
        let fraction = UInt64(time.tv_nsec) * (1 << 32) / 1_000_000_000
        return seconds << 32 | fraction
    }
}
