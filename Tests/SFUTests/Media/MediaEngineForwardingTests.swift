import DTLS
import ICE
import Testing
@testable import SFU
@testable import RTCP
@testable import RTP
@testable import SDP

/// The media engine end to end in one process: real ICE checks, DTLS handshakes and SRTP,
/// packets in from a publisher and out to a subscriber, through the router.
@Suite struct MediaEngineForwardingTests {
    let publisherId = ParticipantID(rawValue: 1)
    let subscriberId = ParticipantID(rawValue: 2)
    let track = TrackID(rawValue: 77)

    func vp8Media(simulcast: [String] = [], ssrc: UInt32? = 1111) -> PublishedMedia {
        var extensions = HeaderExtensionMap()
        extensions.mid = 1
        extensions.rid = 2
        return PublishedMedia(
            mid: "1", kind: .video,
            codec: RTPCodec(name: .vp8, payloadType: 100, clockRate: 90000, channels: 1, fmtp: "", rtxPayloadType: 101,
                            feedback: ["nack", "nack pli"]),
            extensions: extensions, simulcastRids: simulcast, ssrc: simulcast.isEmpty ? ssrc : nil)
    }

    func downTrack(quality: SimulcastQuality = .high) -> DownTrackConfig {
        DownTrackConfig(track: track, ssrc: 5555, rtxSSRC: 5556, payloadType: 96, rtxPayloadType: 97,
                        absSendTimeId: 2, audioLevelId: 0, quality: quality)
    }

    /// Publisher and subscriber connected, the track published and subscribed.
    func setUp(_ media: PublishedMedia, quality: SimulcastQuality = .high) throws -> (EngineHarness, TestPeer, TestPeer) {
        let harness = try EngineHarness()
        let (publisher, subscriber) = try harness.publisherAndSubscriber(publisherId, subscriberId, track: track, media: media)
        harness.engine.setDownTracks(participant: subscriberId, [downTrack(quality: quality)])
        return (harness, publisher, subscriber)
    }

    func pliTargets(_ rtcp: [[UInt8]]) -> [UInt32] {
        rtcp.compactMap { bytes in
            bytes.withUnsafeBytes { raw -> UInt32? in
                var iterator = RTCPCompoundIterator(raw)
                while let packet = iterator.next() {
                    if let pli = PictureLossIndication(parsing: packet) { return pli.mediaSSRC }
                }
                return nil
            }
        }
    }

    @Test func forwardsWithTheSubscribersSSRCPayloadTypeAndContinuousNumbers() throws {
        let (harness, publisher, subscriber) = try setUp(vp8Media())
        try harness.sendRTP(rtpPacket(payloadType: 100, sequence: 1000, timestamp: 9000, ssrc: 1111,
                                      payload: vp8Payload(pictureId: 300, start: true, keyframe: true)), from: publisher)
        try harness.sendRTP(rtpPacket(payloadType: 100, sequence: 1001, timestamp: 9000, ssrc: 1111, marker: true,
                                      payload: vp8Payload(pictureId: 300, start: false, keyframe: false)), from: publisher)
        let received = try harness.received(by: subscriber).rtp.compactMap(RTPPacketView.parse)
        try #require(received.count == 2)
        #expect(received.allSatisfy { $0.payloadType == 96 && $0.ssrc == 5555 })
        #expect(received[1].sequence == received[0].sequence &+ 1)
        #expect(received[1].timestamp == received[0].timestamp)
        #expect(received[0].payload == vp8Payload(pictureId: 300, start: true, keyframe: true))
    }

    @Test func videoStartsOnlyAtAKeyframe() throws {
        let (harness, publisher, subscriber) = try setUp(vp8Media())
        try harness.sendRTP(rtpPacket(payloadType: 100, sequence: 1, timestamp: 10, ssrc: 1111,
                                      payload: vp8Payload(pictureId: 5, start: true, keyframe: false)), from: publisher)
        #expect(try harness.received(by: subscriber).rtp.isEmpty)
        try harness.sendRTP(rtpPacket(payloadType: 100, sequence: 2, timestamp: 20, ssrc: 1111,
                                      payload: vp8Payload(pictureId: 6, start: true, keyframe: true)), from: publisher)
        #expect(try harness.received(by: subscriber).rtp.count == 1)
    }

    @Test func aNewSubscriberMakesThePublisherSendAKeyframe() throws {
        let (harness, publisher, _) = try setUp(vp8Media())
        #expect(pliTargets(try harness.received(by: publisher).rtcp) == [1111])
    }

    @Test func nackIsAnsweredFromTheCacheAsRTX() throws {
        let (harness, publisher, subscriber) = try setUp(vp8Media())
        for (index, sequence) in (2000...2004).enumerated() {
            try harness.sendRTP(rtpPacket(payloadType: 100, sequence: UInt16(sequence), timestamp: 3000, ssrc: 1111,
                                          payload: vp8Payload(pictureId: 9, start: index == 0, keyframe: index == 0)), from: publisher)
        }
        let sent = try harness.received(by: subscriber).rtp.compactMap(RTPPacketView.parse)
        try #require(sent.count == 5)
        let lost = sent[2].sequence
        var nack = [UInt8](repeating: 0, count: 64)
        let length = nack.withUnsafeMutableBytes { out in
            [lost].withUnsafeBufferPointer { GenericNACK.write(into: out, senderSSRC: 9, mediaSSRC: 5555, lost: $0) }
        }
        try harness.sendRTCP(Array(nack[0..<length]), from: subscriber)
        let repaired = try harness.received(by: subscriber).rtp.compactMap(RTPPacketView.parse)
        try #require(repaired.count == 1)
        #expect(repaired[0].payloadType == 97)
        #expect(repaired[0].ssrc == 5556)
        #expect(repaired[0].payload.prefix(2) == [UInt8(lost >> 8), UInt8(lost & 0xFF)])
        #expect(Array(repaired[0].payload.dropFirst(2)) == sent[2].payload)
        #expect(harness.engine.counters.values[MediaCounters.Name.retransmissions.rawValue] == 1)
    }

    @Test func aNACKForAPacketNoLongerHeldIsCountedAsMissed() throws {
        let (harness, publisher, subscriber) = try setUp(vp8Media())
        try harness.sendRTP(rtpPacket(payloadType: 100, sequence: 10, timestamp: 1, ssrc: 1111,
                                      payload: vp8Payload(pictureId: 1, start: true, keyframe: true)), from: publisher)
        let first = try #require(try harness.received(by: subscriber).rtp.compactMap(RTPPacketView.parse).first)
        var nack = [UInt8](repeating: 0, count: 64)
        let length = nack.withUnsafeMutableBytes { out in
            [first.sequence &- 5].withUnsafeBufferPointer { GenericNACK.write(into: out, senderSSRC: 9, mediaSSRC: 5555, lost: $0) }
        }
        try harness.sendRTCP(Array(nack[0..<length]), from: subscriber)
        #expect(try harness.received(by: subscriber).rtp.isEmpty)
        #expect(harness.engine.counters.values[MediaCounters.Name.retransmissionsMissed.rawValue] == 1)
    }

    @Test func pliFromASubscriberReachesThePublisherRateLimited() throws {
        let (harness, publisher, subscriber) = try setUp(vp8Media())
        _ = try harness.received(by: publisher)  // the PLI sent when the subscriber joined
        var pli = [UInt8](repeating: 0, count: 32)
        let length = pli.withUnsafeMutableBytes { PictureLossIndication.write(into: $0, senderSSRC: 9, mediaSSRC: 5555) }
        try harness.sendRTCP(Array(pli[0..<length]), from: subscriber)
        // Within 500 ms of the last request: held back...
        #expect(pliTargets(try harness.received(by: publisher).rtcp).isEmpty)
        // ...and sent by the ticker once the interval has passed.
        harness.tick(at: .now + .milliseconds(600))
        #expect(pliTargets(try harness.received(by: publisher).rtcp) == [1111])
        // A keyframe arriving before that serves a held-back request: nothing more is sent.
        try harness.sendRTCP(Array(pli[0..<length]), from: subscriber)
        try harness.sendRTP(rtpPacket(payloadType: 100, sequence: 1, timestamp: 1, ssrc: 1111,
                                      payload: vp8Payload(pictureId: 1, start: true, keyframe: true)), from: publisher)
        harness.tick(at: .now + .milliseconds(1300))
        #expect(pliTargets(try harness.received(by: publisher).rtcp).isEmpty)
    }

    @Test func simulcastSwitchesLayersOnlyOnAKeyframeOfTheNewLayer() throws {
        let (harness, publisher, subscriber) = try setUp(vp8Media(simulcast: ["h", "m", "l"]))
        let ssrcs: [String: UInt32] = ["h": 10, "m": 20, "l": 30]
        var sequence: [String: UInt16] = ["h": 100, "m": 200, "l": 300]
        func send(_ rid: String, keyframe: Bool, picture: UInt16) throws {
            let packet = rtpPacket(payloadType: 100, sequence: sequence[rid]!, timestamp: UInt32(picture) * 3000, ssrc: ssrcs[rid]!,
                                   extensions: [(1, Array("1".utf8)), (2, Array(rid.utf8))],
                                   payload: vp8Payload(pictureId: picture, start: true, keyframe: keyframe))
            sequence[rid]! &+= 1
            try harness.sendRTP(packet, from: publisher)
        }
        // Every layer is live; the subscriber wants low.
        for rid in ["h", "m", "l"] { try send(rid, keyframe: false, picture: 1) }
        harness.engine.setQuality(participant: subscriberId, track: track, quality: .low)
        _ = try harness.received(by: publisher)
        try send("l", keyframe: true, picture: 2)
        try send("h", keyframe: false, picture: 2)
        try send("l", keyframe: false, picture: 3)
        var got = try harness.received(by: subscriber).rtp.compactMap(RTPPacketView.parse)
        #expect(got.count == 2)  // both from l, h is not forwarded
        let lastLow = try #require(got.last)

        // Asking for high: a keyframe is requested from h, and l keeps flowing until it comes.
        harness.engine.setQuality(participant: subscriberId, track: track, quality: .high)
        #expect(pliTargets(try harness.received(by: publisher).rtcp) == [10])
        try send("h", keyframe: false, picture: 4)
        try send("l", keyframe: false, picture: 4)
        got = try harness.received(by: subscriber).rtp.compactMap(RTPPacketView.parse)
        #expect(got.count == 1 && got[0].sequence == lastLow.sequence &+ 1)
        try send("h", keyframe: true, picture: 5)
        try send("l", keyframe: false, picture: 5)
        got = try harness.received(by: subscriber).rtp.compactMap(RTPPacketView.parse)
        try #require(got.count == 1)  // the h keyframe; l is no longer forwarded
        #expect(got[0].sequence == lastLow.sequence &+ 2)
        #expect(got[0].ssrc == 5555)
        #expect(got[0].timestamp != lastLow.timestamp)
        #expect(harness.engine.counters.values[MediaCounters.Name.layerSwitches.rawValue] == 1)
    }

    @Test func qualityOffStopsASingleEncodingTrackAndItResumesOnAKeyframe() throws {
        let (harness, publisher, subscriber) = try setUp(vp8Media())
        var sequence: UInt16 = 500
        func send(keyframe: Bool, picture: UInt16) throws {
            try harness.sendRTP(rtpPacket(payloadType: 100, sequence: sequence, timestamp: UInt32(picture) * 3000, ssrc: 1111,
                                          payload: vp8Payload(pictureId: picture, start: true, keyframe: keyframe)), from: publisher)
            sequence &+= 1
        }
        try send(keyframe: true, picture: 1)
        let before = try #require(try harness.received(by: subscriber).rtp.compactMap(RTPPacketView.parse).last)
        _ = try harness.received(by: publisher)  // the PLI sent when the subscriber joined

        // "off": nothing more is forwarded, keyframes included.
        harness.engine.setQuality(participant: subscriberId, track: track, quality: .off)
        try send(keyframe: false, picture: 2)
        try send(keyframe: true, picture: 3)
        #expect(try harness.received(by: subscriber).rtp.isEmpty)
        #expect(pliTargets(try harness.received(by: publisher).rtcp).isEmpty)

        // Back on: a keyframe is asked for (held back by the rate limit, then sent by the
        // ticker), deltas wait for it, and the numbering goes on from the last packet sent.
        harness.engine.setQuality(participant: subscriberId, track: track, quality: .high)
        harness.tick(at: .now + .milliseconds(600))
        #expect(pliTargets(try harness.received(by: publisher).rtcp).contains(1111))
        try send(keyframe: false, picture: 4)
        #expect(try harness.received(by: subscriber).rtp.isEmpty)
        try send(keyframe: true, picture: 5)
        let resumed = try harness.received(by: subscriber).rtp.compactMap(RTPPacketView.parse)
        try #require(resumed.count == 1)
        #expect(resumed[0].sequence == before.sequence &+ 1)
        #expect(resumed[0].ssrc == 5555)
        #expect(harness.engine.counters.values[MediaCounters.Name.layerSwitches.rawValue] == 0)
    }

    @Test func qualityOffSentBeforeTheAnswerHoldsForASingleEncodingTrack() throws {
        let harness = try EngineHarness()
        let (publisher, subscriber) = try harness.publisherAndSubscriber(publisherId, subscriberId, track: track, media: vp8Media())
        harness.engine.setQuality(participant: subscriberId, track: track, quality: .off)
        harness.engine.setDownTracks(participant: subscriberId, [downTrack()])
        #expect(pliTargets(try harness.received(by: publisher).rtcp).isEmpty)
        try harness.sendRTP(rtpPacket(payloadType: 100, sequence: 1, timestamp: 1, ssrc: 1111,
                                      payload: vp8Payload(pictureId: 1, start: true, keyframe: true)), from: publisher)
        #expect(try harness.received(by: subscriber).rtp.isEmpty)
    }

    @Test func senderReportsGoToSubscribersAndReceiverReportsToPublishers() throws {
        let (harness, publisher, subscriber) = try setUp(vp8Media())
        try harness.sendRTP(rtpPacket(payloadType: 100, sequence: 1, timestamp: 1, ssrc: 1111,
                                      payload: vp8Payload(pictureId: 1, start: true, keyframe: true)), from: publisher)
        _ = try harness.received(by: subscriber)
        _ = try harness.received(by: publisher)
        harness.tick(at: .now + .seconds(2))
        let toSubscriber = try harness.received(by: subscriber).rtcp
        let toPublisher = try harness.received(by: publisher).rtcp
        #expect(toSubscriber.contains { $0.count > 1 && $0[1] == 200 })  // SR
        #expect(toPublisher.contains { $0.count > 1 && $0[1] == 201 })   // RR
    }

    /// RFC 3550 §6.4.1: the subscriber's SR pairs wall time with the publisher's media clock (its
    /// own SR, moved into the subscriber's timestamps), not with when the SFU last forwarded.
    @Test func senderReportsToSubscribersCarryThePublishersClockPairing() throws {
        let (harness, publisher, subscriber) = try setUp(vp8Media())
        try harness.sendRTP(rtpPacket(payloadType: 100, sequence: 1, timestamp: 1, ssrc: 1111,
                                      payload: vp8Payload(pictureId: 1, start: true, keyframe: true)), from: publisher)
        let forwarded = try #require(try harness.received(by: subscriber).rtp.first.flatMap(RTPPacketView.parse))
        // The publisher says: as its SR left, its media clock read half a second past that packet.
        var report = [UInt8](repeating: 0, count: 28)
        let length = report.withUnsafeMutableBytes {
            SenderReport.write(into: $0, ssrc: 1111, ntpTimestamp: 1 << 40, rtpTimestamp: 1 + 45_000, packetCount: 1, octetCount: 40)
        }
        #expect(length == 28)
        try harness.sendRTCP(report, from: publisher)
        let reportAt = ContinuousClock.now
        harness.tick(at: reportAt + .seconds(2))
        let sr = try #require(try harness.received(by: subscriber).rtcp.first { $0.count >= 28 && $0[1] == 200 })
        let rtp = UInt32(sr[16]) << 24 | UInt32(sr[17]) << 16 | UInt32(sr[18]) << 8 | UInt32(sr[19])
        let expected = forwarded.timestamp &+ 45_000 &+ 2 * 90_000
        let error = Int32(bitPattern: rtp &- expected)
        #expect(abs(error) < 900, "SR RTP timestamp \(rtp), expected about \(expected) (the publisher's pairing, 10 ms leeway)")
    }

    @Test func aSubscriberLeavingStopsItsForwarding() throws {
        let (harness, publisher, subscriber) = try setUp(vp8Media())
        harness.engine.removeParticipant(subscriberId)
        try harness.sendRTP(rtpPacket(payloadType: 100, sequence: 1, timestamp: 1, ssrc: 1111,
                                      payload: vp8Payload(pictureId: 1, start: true, keyframe: true)), from: publisher)
        #expect(try harness.received(by: subscriber).rtp.isEmpty)
        #expect(harness.engine.tracks[track]?.downTracks.isEmpty == true)
    }
}
