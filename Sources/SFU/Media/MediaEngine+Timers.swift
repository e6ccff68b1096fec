import DTLS
import Foundation
import ICE
import RTCP

/// The engine's periodic work, run by the media I/O thread's ticker (every 20 ms): DTLS
/// retransmission timers, transport-cc feedback (every 50 ms), simulcast layer choice and
/// active speakers (every 500 ms), receiver and sender reports and counters (every second).
extension MediaEngine {
    static let feedbackInterval: Duration = .milliseconds(50)
    static let selectionInterval: Duration = .milliseconds(500)
    static let reportInterval: Duration = .seconds(1)

    func tick(now: ContinuousClock.Instant, router: MediaTransportRouter) {
        let transports = participants.values.flatMap { [$0.publish, $0.subscribe].compactMap { $0 } }
        for transport in transports where !transport.closed {
            if let deadline = transport.dtlsDeadline, now >= deadline {
                apply(transport.dtls.handleTimeout(now: now), to: transport, router: router)
            }
        }
        for track in tracks.values where track.isVideo {
            for (index, layer) in track.layers.enumerated() where layer.keyframeRequests.due(now: now) {
                requestKeyframe(track, layer: index, now: now, router: router)
            }
        }
        if now - lastFeedback >= Self.feedbackInterval {
            lastFeedback = now
            for transport in transports where transport.role == .publish && transport.transportCCId != 0 {
                sendTransportFeedback(transport, router: router)
            }
        }
        if now - lastSelection >= Self.selectionInterval {
            lastSelection = now
            for transport in transports where transport.role == .subscribe && transport.isConnected {
                let share = transport.estimator.estimate / max(1, videoDownTrackCount(transport))
                for down in transport.downTracks.values where down.active {
                    if down.track.layers.count > 1 { select(down, estimate: share, router: router) }
                    // Still waiting for the first keyframe of a layer the publisher is sending:
                    // ask again (the request or the keyframe may have been lost).
                    if down.track.isVideo, let target = down.targetLayer, down.currentLayer != target,
                       let heard = down.track.layers[target].lastPacketAt, now - heard < .seconds(2) {
                        requestKeyframe(down.track, layer: target, now: now, router: router)
                    }
                }
            }
            announceSpeakers()
        }
        if now - lastReports >= Self.reportInterval {
            let interval = now - lastReports
            lastReports = now
            for track in tracks.values {
                for layer in track.layers { layer.rollBitrate(interval: interval, now: now) }
            }
            for transport in transports where transport.isConnected {
                switch transport.role {
                case .publish: sendReceiverReports(transport, now: now, router: router)
                case .subscribe: sendSenderReports(transport, now: now, router: router)
                }
            }
            var downCount = 0
            for transport in transports where transport.role == .subscribe {
                downCount += transport.downTracks.count
            }
            counters.mirror(.iceCheckFailures, total: router.counters.checkFailures)
            published.publish(counters, calls: Set(participants.values.map(\.callId)).count, participants: participants.count,
                              publishedTracks: tracks.count, subscribedTracks: downCount, live: live.counts)
        }
    }

    /// transport-cc feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1) for
    /// what arrived since the last one, so the publisher's send-side estimator can work.
    private func sendTransportFeedback(_ transport: PeerTransport, router: MediaTransportRouter) {
        guard let srtp = transport.srtp, let path = transport.path else { return }
        for _ in 0..<4 {
            var length = transport.transportCC.writeFeedback(
                into: UnsafeMutableRawBufferPointer(rebasing: rtcpBuffer[0..<1200]), senderSsrc: transport.rtcpSsrc,
                mediaSsrc: transport.transportCCMediaSsrc)
            guard length > 0, (try? srtp.protectRTCP(rtcpBuffer, length: &length)) != nil else { return }
            router.send(UnsafeRawBufferPointer(start: rtcpBuffer.baseAddress, count: length), to: path)
        }
    }

    /// One receiver report with a block per received stream (RFC 3550 §6.4.2; at most 31
    /// blocks per report, which a publisher's few layers never reach).
    private func sendReceiverReports(_ transport: PeerTransport, now: ContinuousClock.Instant, router: MediaTransportRouter) {
        guard let srtp = transport.srtp, let path = transport.path else { return }
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
        var length = blocks.withUnsafeBufferPointer {
            ReceiverReport.write(into: rtcpBuffer, senderSsrc: transport.rtcpSsrc, blocks: $0)
        }
        guard length > 0, (try? srtp.protectRTCP(rtcpBuffer, length: &length)) != nil else { return }
        router.send(UnsafeRawBufferPointer(start: rtcpBuffer.baseAddress, count: length), to: path)
    }

    /// A sender report with a CNAME per forwarded stream (RFC 3550 §6.4.1, §6.5.1).
    ///
    /// Its RTP timestamp is the publisher's own: the one of the source layer's last sender
    /// report, advanced by the time since it arrived and moved into this subscriber's timestamp
    /// space. A receiver syncs a participant's audio and video by these pairings (§6.4.1), and
    /// only the publisher knows which media instants belong together; the audio and video
    /// reports cross the same path, so their arrival times keep that relation. Before the
    /// publisher's first report, the last timestamp sent advanced by the time since stands in.
    private func sendSenderReports(_ transport: PeerTransport, now: ContinuousClock.Instant, router: MediaTransportRouter) {
        guard let srtp = transport.srtp, let path = transport.path else { return }
        let ntp = Self.ntpNow()
        for (ssrc, down) in transport.downTracks where down.packetsSent > 0 {
            let clockRate = down.track.media.codec.clockRate
            var rtpTimestamp = down.rewriter.lastTimestamp
            if let current = down.currentLayer, let report = down.track.layers[current].statistics.senderReportPairing {
                rtpTimestamp = down.rewriter.timestamp(for: report.rtpTimestamp &+ UInt32(truncatingIfNeeded: ticks(since: report.at, now, clockRate: clockRate)))
            } else if let sentAt = down.rewriter.lastSentAt {
                rtpTimestamp &+= UInt32(truncatingIfNeeded: ticks(since: sentAt, now, clockRate: clockRate))
            }
            var length = SenderReport.write(into: rtcpBuffer, ssrc: ssrc, ntpTimestamp: ntp, rtpTimestamp: rtpTimestamp,
                                            packetCount: down.packetsSent, octetCount: down.octetsSent)
            guard length > 0 else { continue }
            length += down.track.cname.withUnsafeBytes { cname in
                Sdes.writeCname(into: UnsafeMutableRawBufferPointer(rebasing: rtcpBuffer[length...]), ssrc: ssrc, cname: cname)
            }
            guard (try? srtp.protectRTCP(rtcpBuffer, length: &length)) != nil else { continue }
            router.send(UnsafeRawBufferPointer(start: rtcpBuffer.baseAddress, count: length), to: path)
        }
    }

    /// Ranks the audio of each call and reports a change (docs/protocol.md `call.active-speaker`).
    private func announceSpeakers() {
        var byCall: [String: [(participant: UInt64, loudness: Int)]] = [:]
        for track in tracks.values where track.media.kind == .audio {
            guard let participant = participants[track.participant], let average = track.audioLevel.take() else { continue }
            byCall[participant.callId, default: []].append((track.participant.rawValue, average))
        }
        let calls = Set(participants.values.map(\.callId))
        for callId in calls {
            let speakers = ActiveSpeakerDetector.rank(byCall[callId] ?? []).map(ParticipantID.init(rawValue:))
            if speakers != lastSpeakers[callId] ?? [] {
                lastSpeakers[callId] = speakers
                events(.activeSpeakers(callId: callId, speakers))
            }
        }
        for callId in lastSpeakers.keys where !calls.contains(callId) { lastSpeakers[callId] = nil }
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
