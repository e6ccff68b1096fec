import DTLS
import ICE
import Testing
@testable import SFU
@testable import RTCP
@testable import SDP

/// Congestion feedback and transport lifetime in the media engine.
@Suite struct MediaEngineFeedbackTests {
    let publisherId = ParticipantID(rawValue: 1)
    let subscriberId = ParticipantID(rawValue: 2)
    let track = TrackID(rawValue: 5)

    func media(simulcast: [String] = []) -> PublishedMedia {
        var extensions = HeaderExtensionMap()
        extensions.mid = 1
        extensions.rid = 2
        extensions.transportWideCC = 3
        return PublishedMedia(
            mid: "0", kind: .video,
            codec: RTPCodec(name: .vp8, payloadType: 96, clockRate: 90000, channels: 1, fmtp: "", rtxPayloadType: nil,
                            feedback: ["transport-cc"]),
            extensions: extensions, simulcastRids: simulcast, ssrc: simulcast.isEmpty ? 4242 : nil)
    }

    @Test func publishersGetTransportWideFeedbackForWhatArrived() throws {
        let harness = try EngineHarness()
        let publisher = try harness.connect(publisherId, role: .publish)
        harness.engine.setPublishedTracks(participant: publisherId, [PublishTrackConfig(id: track, media: media(), cname: "p")])
        for sequence in UInt16(0)..<5 where sequence != 2 {
            try harness.sendRTP(rtpPacket(payloadType: 96, sequence: 100 + sequence, timestamp: 0, ssrc: 4242,
                                          extensions: [(3, [0, UInt8(sequence)])],
                                          payload: vp8Payload(pictureId: 1, start: false, keyframe: false)), from: publisher)
        }
        harness.tick(at: .now + .milliseconds(100))
        var statuses: [(UInt16, Bool)] = []
        for bytes in try harness.received(by: publisher).rtcp {
            bytes.withUnsafeBytes { raw in
                var iterator = RTCPCompoundIterator(raw)
                while let packet = iterator.next() {
                    TransportCCFeedback(parsing: packet)?.forEachPacket { sequence, arrival in statuses.append((sequence, arrival != nil)) }
                }
            }
        }
        #expect(statuses.map(\.0) == [0, 1, 2, 3, 4])
        #expect(statuses.map(\.1) == [true, true, false, true, true])
    }

    @Test func aLowREMBMovesASubscriberToALowerLayer() throws {
        let harness = try EngineHarness()
        let (publisher, subscriber) = try harness.publisherAndSubscriber(publisherId, subscriberId, track: track,
                                                                         media: media(simulcast: ["h", "m", "l"]), cname: "p")
        harness.engine.setDownTracks(participant: subscriberId, [DownTrackConfig(
            track: track, ssrc: 77, rtxSSRC: nil, payloadType: 96, rtxPayloadType: nil, absSendTimeId: 0, audioLevelId: 0,
            quality: .high)])
        // One second of traffic on each layer: h 1.2 Mbit/s, m 400 kbit/s, l 100 kbit/s.
        let start = ContinuousClock.now
        for (rid, ssrc, packets) in [("h", UInt32(1), 125), ("m", UInt32(2), 42), ("l", UInt32(3), 11)] {
            for index in 0..<packets {
                try harness.sendRTP(rtpPacket(payloadType: 96, sequence: UInt16(index), timestamp: 0, ssrc: ssrc,
                                              extensions: [(1, Array("0".utf8)), (2, Array(rid.utf8))],
                                              payload: vp8Payload(pictureId: 1, start: false, keyframe: false, size: 1200)), from: publisher)
            }
        }
        harness.tick(at: start + .seconds(1))
        #expect(harness.engine.tracks[track]?.layers.map { $0.bitrate > 0 } == [true, true, true])
        var remb = [UInt8](repeating: 0, count: 64)
        let length = remb.withUnsafeMutableBytes { out in
            [UInt32(77)].withUnsafeBufferPointer { REMB.write(into: out, senderSSRC: 9, bitrate: 300_000, ssrcs: $0) }
        }
        try harness.sendRTCP(Array(remb[0..<length]), from: subscriber)
        harness.tick(at: start + .seconds(1) + .milliseconds(600))
        let down = try #require(harness.engine.participants[subscriberId]?.subscribe?.downTracks[77])
        #expect(down.targetLayer == 2)
    }

    @Test func aLapsedConsentIsReportedSoTheParticipantLeaves() throws {
        let harness = try EngineHarness()
        _ = try harness.connect(publisherId, role: .publish)
        harness.router.expireConsent(now: .now + .seconds(31))
        #expect(harness.events.contains(.transportClosed(publisherId, .publish, reason: "ICE consent expired")))
        #expect(harness.engine.counters.values[MediaCounters.Name.transportsClosedByConsent.rawValue] == 1)
    }

    @Test func garbageFromAConnectedPeerIsCountedAndDropped() throws {
        let harness = try EngineHarness()
        let publisher = try harness.connect(publisherId, role: .publish)
        harness.deliver([0x80, 0x60] + [UInt8](repeating: 0xAB, count: 60), from: publisher.path)  // RTP that fails SRTP
        harness.deliver([0x80, 0xC8] + [UInt8](repeating: 0xAB, count: 30), from: publisher.path)  // RTCP that fails SRTCP
        #expect(harness.engine.counters.values[MediaCounters.Name.srtpErrors.rawValue] == 2)
    }

    @Test func droppedPacketsAreCountedWithTheirBytes() throws {
        let harness = try EngineHarness()
        let (publisher, subscriber) = try harness.publisherAndSubscriber(publisherId, subscriberId, track: track, media: media(), cname: "p")
        // An SSRC and payload type no track of the publisher has...
        let unbound = try publisher.protect(rtpPacket(payloadType: 50, sequence: 1, timestamp: 0, ssrc: 999,
                                                      payload: [UInt8](repeating: 1, count: 100)), rtcp: false)
        harness.deliver(unbound, from: publisher.path)
        // ...and RTP from a subscriber, which sends RTCP only.
        let fromSubscriber = try subscriber.protect(rtpPacket(payloadType: 96, sequence: 1, timestamp: 0, ssrc: 7,
                                                              payload: [UInt8](repeating: 2, count: 40)), rtcp: false)
        harness.deliver(fromSubscriber, from: subscriber.path)
        #expect(harness.engine.counters.values[MediaCounters.Name.packetsDropped.rawValue] == 2)
        #expect(harness.engine.counters.values[MediaCounters.Name.bytesDropped.rawValue] == unbound.count + fromSubscriber.count)
    }

    @Test func failedConnectivityChecksAreCountedAsICEFailures() throws {
        let harness = try EngineHarness()
        let credentials = ICECredentials(ufrag: "srvA", password: "0123456789abcdefghijklmn")
        harness.engine.openTransport(participant: publisherId, callId: "call", role: .publish, credentials: credentials,
                                     remote: RemoteTransport(credentials: ICECredentials(ufrag: "peer", password: "peer-password-not-checked"),
                                                             fingerprints: []))
        let path = FiveTuple(remote: TransportAddress(ip: "127.0.0.1", port: 41000)!, local: TransportAddress(ip: "127.0.0.1", port: 7882)!)
        let wrongKey = ICECredentials(ufrag: "srvA", password: "not-the-password-at-all!")
        func check(_ username: String, key: ICECredentials?, type: STUNMessageType = .bindingRequest) throws {
            let message = STUNMessage(type: type, attributes: [.username(username), .priority(0x6e00_01ff), .iceControlling(tieBreaker: 1)])
            harness.deliver(try message.serialized(integrityKey: key?.key, fingerprint: true), from: path)
        }
        try check("nobody:peer", key: credentials)                    // unknown ufrag: dropped
        try check("srvA:peer", key: wrongKey)                         // bad MESSAGE-INTEGRITY: 401
        try check("srvA:peer", key: nil)                              // no MESSAGE-INTEGRITY: 400
        try check("srvA:other", key: credentials)                     // the wrong remote ufrag: 401
        try check("srvA:peer", key: credentials)                      // a valid check
        try check("srvA:peer", key: nil, type: .bindingIndication)    // a keepalive, not a check
        #expect(harness.router.counters.checkFailures == 4)
        #expect(harness.router.counters.stunSuccess == 1)
        harness.tick(at: .now + .seconds(2))
        #expect(harness.engine.counters.values[MediaCounters.Name.iceCheckFailures.rawValue] == 4)
    }

    /// Chrome offers audio first: the rid extension is only in the video section, and the
    /// transport must still read it (a bug the Chromium simulcast test found).
    @Test func ridIsReadEvenWhenTheFirstSectionHasNone() throws {
        let harness = try EngineHarness()
        let publisher = try harness.connect(publisherId, role: .publish)
        let subscriber = try harness.connect(subscriberId, role: .subscribe)
        var audioExtensions = HeaderExtensionMap()
        audioExtensions.mid = 1
        audioExtensions.audioLevel = 4
        let audio = PublishedMedia(mid: "9", kind: .audio,
                                   codec: RTPCodec(name: .opus, payloadType: 111, clockRate: 48000, channels: 2, fmtp: "",
                                                   rtxPayloadType: nil, feedback: []),
                                   extensions: audioExtensions, ssrc: 9)
        harness.engine.setPublishedTracks(participant: publisherId, [
            PublishTrackConfig(id: TrackID(rawValue: 1), media: audio, cname: "p"),
            PublishTrackConfig(id: track, media: media(simulcast: ["h", "m", "l"]), cname: "p"),
        ])
        // The wish comes before the answer that creates the down-track: it is kept.
        harness.engine.setQuality(participant: subscriberId, track: track, quality: .low)
        harness.engine.setDownTracks(participant: subscriberId, [DownTrackConfig(
            track: track, ssrc: 77, rtxSSRC: nil, payloadType: 96, rtxPayloadType: nil, absSendTimeId: 0, audioLevelId: 0,
            quality: .high)])
        for (rid, ssrc) in [("h", UInt32(1)), ("m", UInt32(2)), ("l", UInt32(3))] {
            try harness.sendRTP(rtpPacket(payloadType: 96, sequence: 1, timestamp: 0, ssrc: ssrc,
                                          extensions: [(1, Array("0".utf8)), (2, Array(rid.utf8))],
                                          payload: vp8Payload(pictureId: 1, start: true, keyframe: false)), from: publisher)
        }
        let down = try #require(harness.engine.participants[subscriberId]?.subscribe?.downTracks[77])
        #expect(down.quality == .low)
        #expect(harness.engine.tracks[track]?.layers.map(\.ssrc) == [1, 2, 3])
        harness.engine.setQuality(participant: subscriberId, track: track, quality: .low)
        try harness.sendRTP(rtpPacket(payloadType: 96, sequence: 2, timestamp: 0, ssrc: 3,
                                      extensions: [(1, Array("0".utf8)), (2, Array("l".utf8))],
                                      payload: vp8Payload(pictureId: 2, start: true, keyframe: true)), from: publisher)
        #expect(try harness.received(by: subscriber).rtp.count == 1)
    }
}
