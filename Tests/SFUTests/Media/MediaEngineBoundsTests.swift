import DTLS
import ICE
import Testing
@testable import SFU
@testable import SDP

/// What a participant can make the media engine hold, and that all of it goes when it leaves:
/// live-object counts, per-layer state made on the first packet, SSRC and SRTP stream caps.
@Suite struct MediaEngineBoundsTests {
    let track = TrackID(rawValue: 77)

    static func video(mid: String = "1", simulcast: [String] = [], ssrc: UInt32? = nil) -> PublishedMedia {
        var extensions = HeaderExtensionMap()
        extensions.mid = 1
        extensions.rid = 2
        return PublishedMedia(
            mid: mid, kind: .video,
            codec: RTPCodec(name: .vp8, payloadType: 100, clockRate: 90000, channels: 1, fmtp: "", rtxPayloadType: 101,
                            feedback: ["nack", "nack pli"]),
            extensions: extensions, simulcastRids: simulcast, ssrc: ssrc)
    }

    static func audio(mid: String = "0", ssrc: UInt32) -> PublishedMedia {
        PublishedMedia(mid: mid, kind: .audio,
                       codec: RTPCodec(name: .opus, payloadType: 111, clockRate: 48000, channels: 2, fmtp: "", rtxPayloadType: nil,
                                       feedback: []),
                       extensions: HeaderExtensionMap(), simulcastRids: [], ssrc: ssrc)
    }

    /// A simulcast packet naming its mid and rid (RFC 8843, RFC 8852).
    static func simulcastPacket(rid: String, ssrc: UInt32, sequence: UInt16, mid: String = "1", keyframe: Bool = true) -> [UInt8] {
        rtpPacket(payloadType: 100, sequence: sequence, timestamp: UInt32(sequence) * 3000, ssrc: ssrc,
                  extensions: [(1, Array(mid.utf8)), (2, Array(rid.utf8))],
                  payload: vp8Payload(pictureId: sequence, start: true, keyframe: keyframe))
    }

    @Test func layerStateBeyondStatisticsIsMadeWhenTheLayersFirstPacketArrives() throws {
        let harness = try EngineHarness()
        let publisher = try harness.connect(ParticipantID(rawValue: 1), role: .publish)
        harness.engine.setPublishedTracks(participant: ParticipantID(rawValue: 1), [
            PublishTrackConfig(id: track, media: Self.video(simulcast: ["h", "m", "l"]), cname: "p"),
        ])
        var live = harness.engine.liveObjects
        #expect(live.tracks == 1 && live.layers == 3)
        #expect(live.packetCaches == 0)
        try harness.sendRTP(Self.simulcastPacket(rid: "m", ssrc: 2002, sequence: 1), from: publisher)
        live = harness.engine.liveObjects
        #expect(live.packetCaches == 1)
        #expect(live.ssrcBindings == 1)
        #expect(harness.engine.tracks[track]?.layers[1].cache != nil)
        #expect(harness.engine.tracks[track]?.layers[0].cache == nil)
        // Audio layers never get one.
        harness.engine.setPublishedTracks(participant: ParticipantID(rawValue: 1), [
            PublishTrackConfig(id: track, media: Self.video(simulcast: ["h", "m", "l"]), cname: "p"),
            PublishTrackConfig(id: TrackID(rawValue: 78), media: Self.audio(ssrc: 3003), cname: "p"),
        ])
        try harness.sendRTP(rtpPacket(payloadType: 111, sequence: 1, timestamp: 1, ssrc: 3003, payload: [1, 2, 3]), from: publisher)
        #expect(harness.engine.liveObjects.packetCaches == 1)
        #expect(harness.engine.liveObjects.layers == 4)
    }

    /// A publisher whose layer keeps changing SSRC holds one binding and one SRTP stream for it,
    /// and SSRCs that bind to nothing stop being read once the transport's limit is reached.
    @Test func ssrcBindingsAndSRTPStreamsPerTransportAreCapped() throws {
        let harness = try EngineHarness()
        let publisherId = ParticipantID(rawValue: 1)
        let publisher = try harness.connect(publisherId, role: .publish)
        harness.engine.setPublishedTracks(participant: publisherId, [
            PublishTrackConfig(id: track, media: Self.video(simulcast: ["h", "m", "l"]), cname: "p"),
        ])
        for n in 0..<200 {
            try harness.sendRTP(Self.simulcastPacket(rid: "h", ssrc: 10_000 + UInt32(n), sequence: UInt16(n)), from: publisher)
        }
        let transport = try #require(harness.engine.participants[publisherId]?.publish)
        #expect(transport.bindings.count == 1)
        #expect(transport.inboundSsrcs.count == 1)
        #expect(harness.engine.tracks[track]?.layers[0].ssrc == 10_199)
        #expect(harness.engine.counters.values[MediaCounters.Name.packetsReceived.rawValue] == 200)

        // SSRCs naming a rid the track does not have: authenticated, never bound, and past the limit unread.
        let limit = transport.inboundSSRCLimit
        #expect(limit == 2 * 3 + 4)
        for n in 0..<200 {
            try harness.sendRTP(Self.simulcastPacket(rid: "zz", ssrc: 50_000 + UInt32(n), sequence: UInt16(n)), from: publisher)
        }
        #expect(transport.inboundSsrcs.count == limit)
        #expect(harness.engine.counters.values[MediaCounters.Name.ssrcsRefused.rawValue] == 200 - (limit - 1))
        #expect(harness.engine.liveObjects.ssrcBindings == 1)
        // Its own stream still works: the bound SSRC is read as before.
        try harness.sendRTP(Self.simulcastPacket(rid: "h", ssrc: 10_199, sequence: 500), from: publisher)
        #expect(harness.engine.counters.values[MediaCounters.Name.packetsReceived.rawValue] == 200 + (limit - 1) + 1)
    }

    /// The cycle: a participant joins (both connections), publishes audio and simulcast
    /// video that flows (caches, bindings, SRTP streams), subscribes to the one who stays, NACKs,
    /// and leaves; a thousand times. Afterwards the engine holds exactly what the one who stayed
    /// holds, and once that one leaves too, nothing.
    @Test func aThousandJoinPublishLeaveCyclesLeaveNothingBehind() throws {
        let harness = try EngineHarness()
        let certificate = try DTLSCertificate.generate()
        let stayId = ParticipantID(rawValue: 1)
        let stayTrack = TrackID(rawValue: 1)
        let stayPublisher = try harness.connect(stayId, role: .publish, peerCertificate: certificate)
        let staySubscriber = try harness.connect(stayId, role: .subscribe, peerCertificate: certificate)
        harness.engine.setPublishedTracks(participant: stayId, [
            PublishTrackConfig(id: stayTrack, media: Self.video(mid: "0", ssrc: 4242), cname: "stay"),
        ])
        try harness.sendRTP(rtpPacket(payloadType: 100, sequence: 1, timestamp: 1, ssrc: 4242,
                                      payload: vp8Payload(pictureId: 1, start: true, keyframe: true)), from: stayPublisher)
        let baseline = harness.engine.liveObjects
        #expect(baseline.transports == 2 && baseline.tracks == 1 && baseline.packetCaches == 1)

        var peak = MediaLiveObjects.zero
        for cycle in 0..<1000 {
            let id = ParticipantID(rawValue: UInt64(cycle + 2))
            let publisher = try harness.connect(id, role: .publish, peerCertificate: certificate)
            let subscriber = try harness.connect(id, role: .subscribe, peerCertificate: certificate)
            let videoTrack = TrackID(rawValue: UInt64(1000 + 2 * cycle)), audioTrack = TrackID(rawValue: UInt64(1001 + 2 * cycle))
            harness.engine.setPublishedTracks(participant: id, [
                PublishTrackConfig(id: audioTrack, media: Self.audio(ssrc: 7000), cname: "guest"),
                PublishTrackConfig(id: videoTrack, media: Self.video(simulcast: ["h", "m", "l"]), cname: "guest"),
            ])
            // The one who stays receives the guest's video; the guest receives the stayer's.
            harness.engine.setDownTracks(participant: stayId, [
                DownTrackConfig(track: videoTrack, ssrc: 5000 + UInt32(cycle), rtxSSRC: 6000 + UInt32(cycle), payloadType: 96,
                                rtxPayloadType: 97, absSendTimeId: 2, audioLevelId: 0, quality: .high),
            ])
            harness.engine.setDownTracks(participant: id, [
                DownTrackConfig(track: stayTrack, ssrc: 9000, rtxSSRC: 9001, payloadType: 96, rtxPayloadType: 97,
                                absSendTimeId: 2, audioLevelId: 0, quality: .high),
            ])
            try harness.sendRTP(rtpPacket(payloadType: 111, sequence: 1, timestamp: 1, ssrc: 7000, payload: [1, 2, 3]), from: publisher)
            for (n, rid) in ["h", "m", "l"].enumerated() {
                try harness.sendRTP(Self.simulcastPacket(rid: rid, ssrc: 8000 + UInt32(n), sequence: 1), from: publisher)
            }
            try harness.sendRTCP(nack(mediaSSRC: 9000, entries: [(1, 0xFFFF)]), from: subscriber)
            if cycle == 0 { peak = harness.engine.liveObjects }
            harness.engine.removeParticipant(id)
            harness.sink.sent.removeAll()
        }
        #expect(peak.transports == 4 && peak.tracks == 3 && peak.layers == 5)
        #expect(peak.packetCaches == 4 && peak.ssrcBindings == 5 && peak.subscribeSlots == 2)
        #expect(peak.srtpStreams > baseline.srtpStreams)
        // The stayer's down-track of the last guest went with the guest, and its SRTP streams.
        #expect(harness.engine.liveObjects == baseline, "\(harness.engine.liveObjects) after 1000 cycles, \(baseline) before")
        #expect(harness.engine.participants[stayId]?.subscribe?.outboundSsrcs.isEmpty == true)
        _ = staySubscriber

        harness.engine.removeParticipant(stayId)
        #expect(harness.engine.liveObjects == .zero, "\(harness.engine.liveObjects)")
        #expect(harness.engine.participants.isEmpty && harness.engine.tracks.isEmpty)
    }

    @Test func aTransportWhoseConsentLapsedIsFreedWhenItsParticipantLeaves() throws {
        let harness = try EngineHarness()
        let id = ParticipantID(rawValue: 3)
        let publisher = try harness.connect(id, role: .publish)
        harness.engine.setPublishedTracks(participant: id, [PublishTrackConfig(id: track, media: Self.video(ssrc: 11), cname: "p")])
        try harness.sendRTP(rtpPacket(payloadType: 100, sequence: 1, timestamp: 1, ssrc: 11,
                                      payload: vp8Payload(pictureId: 1, start: true, keyframe: true)), from: publisher)
        harness.router.expireConsent(now: .now + .seconds(31))
        harness.engine.removeParticipant(id)
        #expect(harness.engine.liveObjects == .zero, "\(harness.engine.liveObjects)")
    }
}

/// A Generic NACK (RFC 4585 §6.2.1) with these PID/BLP entries as written, duplicates and all.
func nack(mediaSSRC: UInt32, entries: [(UInt16, UInt16)], senderSSRC: UInt32 = 9) -> [UInt8] {
    let words = 2 + entries.count  // sender SSRC, media SSRC, one word per entry
    var bytes: [UInt8] = [0x80 | 1, 205, UInt8(words >> 8), UInt8(words & 0xFF)]
    bytes += withUnsafeBytes(of: senderSSRC.bigEndian, Array.init)
    bytes += withUnsafeBytes(of: mediaSSRC.bigEndian, Array.init)
    for (pid, blp) in entries { bytes += [UInt8(pid >> 8), UInt8(pid & 0xFF), UInt8(blp >> 8), UInt8(blp & 0xFF)] }
    return bytes
}
