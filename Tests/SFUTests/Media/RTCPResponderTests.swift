import ICE
import RTCP
import RTP
import Testing
@testable import SFU

/// Parley's RTCP side with real transports and no engine: keyframe requests paced to the
/// publisher, NACKs answered from the cache as RTX once per round trip, and receiver reports.
@Suite struct RTCPResponderTests {
    let publisher: LoneTransport
    let subscriber: LoneTransport
    let sender: RTPSender
    let responder: RTCPResponder
    let start = ContinuousClock.now

    init() throws {
        publisher = try LoneTransport(role: .publish)
        subscriber = try LoneTransport(role: .subscribe, beside: publisher)
        sender = RTPSender(router: publisher.router, counters: publisher.counters, bufferSize: 2048)
        responder = RTCPResponder(router: publisher.router, sender: sender, counters: publisher.counters, epoch: start, bufferSize: 2048)
    }

    /// A published VP8 track with one layer on SSRC 1111.
    func track() -> PublishedTrack {
        let track = PublisherIngestTests.track(on: publisher.transport, media: PublisherIngestTests.media(ssrc: 1111), live: publisher.live)
        track.layers[0].ssrc = 1111
        publisher.transport.bind(1111, to: SSRCBinding(track: track, layer: 0, isRTX: false))
        return track
    }

    func rtcp(sentTo peer: TestPeer) throws -> [[UInt8]] {
        try publisher.sink.take(to: peer.path).map { try peer.unprotect($0, rtcp: true) }
    }

    @Test func keyframeRequestsReachThePublisherPacedAndNoneIsLost() throws {
        let peer = try publisher.connect(port: 41000)
        let track = track()
        responder.requestKeyframe(track, layer: 0, now: start)
        responder.requestKeyframe(track, layer: 0, now: start + .milliseconds(100))  // too soon: deferred
        let sent = try rtcp(sentTo: peer)
        #expect(sent.count == 1)
        let pli = try #require(sent.first.flatMap { firstRTCP($0) { PictureLossIndication(parsing: $0) } })
        #expect(pli.mediaSSRC == 1111 && pli.senderSSRC == publisher.transport.rtcpSSRC)
        #expect(!track.layers[0].keyframeRequests.due(now: start + .milliseconds(200)))
        #expect(track.layers[0].keyframeRequests.due(now: start + .milliseconds(600)))
        // A keyframe arriving first settles the deferred request.
        track.layers[0].keyframeRequests.keyframeArrived()
        #expect(!track.layers[0].keyframeRequests.due(now: start + .milliseconds(600)))
        #expect(publisher.counters[.keyframeRequestsSent] == 1)
    }

    @Test func aNACKIsAnsweredAsRTXFromTheCacheOncePerRoundTrip() throws {
        let peer = try subscriber.connect(port: 42000)
        let track = track()
        let down = DownTrack(track: track, subscriber: subscriber.transport,
                             config: DownTrackConfig(track: track.id, ssrc: 5555, rtxSSRC: 5556, payloadType: 96, rtxPayloadType: 97,
                                                     absSendTimeId: 0, audioLevelId: 0, quality: .high), live: publisher.live)
        track.downTracks.append(down)
        subscriber.transport.downTracks[5555] = down
        let ingest = PublisherIngest(counters: publisher.counters, epoch: start)
        var outputs: [UInt16: UInt16] = [:]
        for sequence in UInt16(10)..<15 {
            let bytes = rtpPacket(payloadType: 100, sequence: sequence, timestamp: 90 * UInt32(sequence), ssrc: 1111,
                                  payload: vp8Payload(pictureId: sequence, start: true, keyframe: sequence == 10))
            let packet = try #require(bytes.withUnsafeBytes { raw in
                ingest.accept(RTPPacketView(raw)!, datagramSize: raw.count, on: publisher.transport, now: start)
            })
            let decision = down.forwarding.forward(
                layer: packet.layer, isKeyframe: packet.isKeyframe, sequence: packet.sequence, timestamp: packet.timestamp,
                pictureId: packet.vp8?.pictureId, tl0: packet.vp8?.tl0PicIdx, clockRate: 90000, now: start)
            let header = try #require(decision)
            down.forwarding.sent(header, now: start)
            outputs[sequence] = header.sequence
        }
        let lost = try #require(outputs[12])
        func nack(_ numbers: [UInt16]) -> [UInt8] {
            var out = [UInt8](repeating: 0, count: 64)
            let length = out.withUnsafeMutableBytes { raw in
                numbers.withUnsafeBufferPointer { GenericNACK.write(into: raw, senderSSRC: 1, mediaSSRC: 5555, lost: $0) }
            }
            return Array(out[0..<length])
        }
        nack([lost]).withUnsafeBytes { responder.receive($0, on: subscriber.transport, now: start + .milliseconds(1)) }
        let sent = publisher.sink.take(to: peer.path)
        #expect(sent.count == 1)
        let rtx = try #require(RTPPacketView.parse(try peer.unprotect(sent[0], rtcp: false)))
        #expect(rtx.ssrc == 5556 && rtx.payloadType == 97)
        #expect(UInt16(rtx.payload[0]) << 8 | UInt16(rtx.payload[1]) == lost)  // the original sequence number
        // Again within the round trip: not repeated. A number never sent: missed. Both counted.
        nack([lost, 60000]).withUnsafeBytes { responder.receive($0, on: subscriber.transport, now: start + .milliseconds(2)) }
        #expect(publisher.sink.take(to: peer.path).isEmpty)
        #expect(publisher.counters[.retransmissions] == 1)
        #expect(publisher.counters[.retransmissionsRepeated] == 1 && publisher.counters[.retransmissionsMissed] == 1)
    }

    @Test func aPublisherGetsAReceiverReportForWhatItSent() throws {
        let peer = try publisher.connect(port: 43000)
        let track = track()
        let ingest = PublisherIngest(counters: publisher.counters, epoch: start)
        for sequence in [UInt16(1), 2, 4] {  // 3 is lost
            let bytes = rtpPacket(payloadType: 100, sequence: sequence, timestamp: 0, ssrc: 1111, payload: [0x10, 1, 2])
            _ = bytes.withUnsafeBytes { ingest.accept(RTPPacketView($0)!, datagramSize: $0.count, on: publisher.transport, now: start) }
        }
        responder.sendReceiverReports(publisher.transport, now: start + .seconds(1))
        let sent = try rtcp(sentTo: peer)
        let block = try #require(sent.first.flatMap { firstRTCP($0) { ReceiverReport(parsing: $0)?.reportBlock(at: 0) } })
        #expect(block.ssrc == 1111 && block.cumulativeLost == 1 && block.highestSequence == 4)
        _ = track
    }
}

/// The first packet of a compound RTCP packet, parsed by `parse`.
func firstRTCP<T>(_ bytes: [UInt8], _ parse: (RTCPPacketView) -> T?) -> T? {
    bytes.withUnsafeBytes { raw in
        var packets = RTCPCompoundIterator(raw)
        return packets.next().flatMap(parse)
    }
}
