import ICE

/// The engine's periodic work, run by the media I/O thread's ticker (every 20 ms): DTLS
/// retransmission timers and deferred keyframe requests, transport-cc feedback (every 50 ms),
/// simulcast layer choice and active speakers (every 500 ms), receiver and sender reports and
/// counters (every second). The reports are the `RTCPResponder`'s to write.
extension MediaEngine {
    static let feedbackInterval: Duration = .milliseconds(50)
    static let selectionInterval: Duration = .milliseconds(500)
    static let reportInterval: Duration = .seconds(1)

    func tick(now: ContinuousClock.Instant) {
        let transports = participants.values.flatMap { [$0.publish, $0.subscribe].compactMap { $0 } }
        for transport in transports {
            handle(transport.dtlsTimerFired(now: now, router: router), on: transport)
        }
        for track in tracks.values where track.isVideo {
            for (index, layer) in track.layers.enumerated() where layer.keyframeRequests.due(now: now) {
                responder.requestKeyframe(track, layer: index, now: now)
            }
        }
        if now - lastFeedback >= Self.feedbackInterval {
            lastFeedback = now
            for transport in transports where transport.role == .publish && transport.transportCCId != 0 {
                responder.sendTransportFeedback(transport)
            }
        }
        if now - lastSelection >= Self.selectionInterval {
            lastSelection = now
            for transport in transports where transport.role == .subscribe && transport.isConnected {
                let share = transport.estimator.estimate / max(1, videoDownTrackCount(transport))
                for down in transport.downTracks.values where down.active {
                    if down.track.layers.count > 1 { select(down, estimate: share) }
                    // Still waiting for the first keyframe of a layer the publisher is sending:
                    // ask again (the request or the keyframe may have been lost).
                    if down.track.isVideo, down.forwarding.awaitsKeyframe, let target = down.targetLayer,
                       let heard = down.track.layers[target].lastPacketAt, now - heard < .seconds(2) {
                        responder.requestKeyframe(down.track, layer: target, now: now)
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
                case .publish: responder.sendReceiverReports(transport, now: now)
                case .subscribe: responder.sendSenderReports(transport, now: now)
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
}
