import ICE
import RTP
import SDP
import Testing
@testable import SFU

/// What happens to a publisher's packet before any subscriber: binding, RTX, padding,
/// statistics and cache. A transport and its tracks, no engine and no keys needed.
@Suite struct PublisherIngestTests {
    static func media(simulcast: [String] = [], ssrc: UInt32? = nil) -> PublishedMedia {
        var extensions = HeaderExtensionMap()
        extensions.mid = 1
        extensions.rid = 2
        extensions.repairedRid = 3
        return PublishedMedia(
            mid: "v", kind: .video,
            codec: RTPCodec(name: .vp8, payloadType: 100, clockRate: 90000, channels: 1, fmtp: "", rtxPayloadType: 101,
                            feedback: ["nack", "nack pli"]),
            extensions: extensions, simulcastRids: simulcast, ssrc: ssrc)
    }

    /// A track of `transport` with one subscriber slot, so packets are handed on to forwarding.
    static func track(on transport: PeerTransport, media: PublishedMedia = media(), live: LiveObjectCounter = LiveObjectCounter())
        -> PublishedTrack {
        let track = PublishedTrack(id: TrackID(rawValue: 1), participant: transport.participant, transport: transport, media: media,
                                   cname: "c", live: live)
        transport.tracks.append(track)
        transport.midId = media.extensions.mid
        transport.ridId = media.extensions.rid
        transport.repairedRidId = media.extensions.repairedRid
        return track
    }

    let lone: LoneTransport
    let ingest: PublisherIngest
    let now = ContinuousClock.now

    init() throws {
        lone = try LoneTransport(role: .publish)
        ingest = PublisherIngest(counters: lone.counters, epoch: now)
    }

    func subscribe(_ track: PublishedTrack) {
        let down = DownTrack(track: track, subscriber: lone.transport,
                             config: DownTrackConfig(track: track.id, ssrc: 9, rtxSSRC: nil, payloadType: 96, rtxPayloadType: nil,
                                                     absSendTimeId: 0, audioLevelId: 0, quality: .high), live: lone.live)
        track.downTracks.append(down)
    }

    func accept(_ bytes: [UInt8]) -> IngestedPacket? {
        bytes.withUnsafeBytes { raw in
            guard let rtp = RTPPacketView(raw) else { return nil }
            return ingest.accept(rtp, datagramSize: raw.count, on: lone.transport, now: now)
        }
    }

    @Test func anSSRCIsBoundByItsMidAndRidAndItsRepairStreamByRepairedRid() {
        let track = Self.track(on: lone.transport, media: Self.media(simulcast: ["h", "l"]))
        subscribe(track)
        let low = accept(rtpPacket(payloadType: 100, sequence: 7, timestamp: 1, ssrc: 300, extensions: [(1, Array("v".utf8)), (2, Array("l".utf8))],
                                   payload: vp8Payload(pictureId: 1, start: true, keyframe: true)))
        #expect(low?.layer == 1 && low?.isKeyframe == true && low?.sequence == 7)
        #expect(track.layers[1].ssrc == 300 && lone.transport.bindings[300]?.isRTX == false)
        // RTX for the high layer: the original sequence number, then the payload (RFC 4588 §4).
        let rtx = accept(rtpPacket(payloadType: 101, sequence: 900, timestamp: 2, ssrc: 301,
                                   extensions: [(1, Array("v".utf8)), (3, Array("h".utf8))], payload: [0x00, 0x05] + vp8Payload(pictureId: 2, start: true, keyframe: false)))
        #expect(rtx?.layer == 0 && rtx?.sequence == 5)
        #expect(track.layers[0].rtxSSRC == 301)
        // A later packet of the bound SSRC needs no extension.
        #expect(accept(rtpPacket(payloadType: 100, sequence: 8, timestamp: 1, ssrc: 300, payload: vp8Payload(pictureId: 1, start: false, keyframe: false)))?.layer == 1)
    }

    @Test func anSSRCThatCannotBeBoundIsDroppedAndCounted() {
        let track = Self.track(on: lone.transport, media: Self.media(simulcast: ["h", "l"]))
        subscribe(track)
        // Simulcast without a rid: which layer is unknown.
        let packet = rtpPacket(payloadType: 100, sequence: 1, timestamp: 0, ssrc: 77, payload: [1, 2, 3])
        #expect(accept(packet) == nil)
        #expect(lone.counters[.packetsDropped] == 1 && lone.counters[.bytesDropped] == packet.count)
        #expect(lone.transport.bindings.isEmpty)
    }

    @Test func paddingAndEmptyRTXAreDroppedButTheStreamIsCounted() {
        let track = Self.track(on: lone.transport)
        subscribe(track)
        #expect(accept(rtpPacket(payloadType: 100, sequence: 1, timestamp: 0, ssrc: 500, payload: [])) == nil)  // padding only
        #expect(accept(rtpPacket(payloadType: 101, sequence: 1, timestamp: 0, ssrc: 501, payload: [0, 1])) == nil)  // probing RTX
        #expect(lone.counters[.packetsReceived] == 2 && lone.counters[.packetsDropped] == 2)
    }

    @Test func statisticsAndTheCacheAreKeptEvenWithoutSubscribers() throws {
        let track = Self.track(on: lone.transport, media: Self.media(ssrc: 1111))
        lone.transport.bind(1111, to: SSRCBinding(track: track, layer: 0, isRTX: false))
        for sequence in UInt16(10)..<15 {
            // Nobody receives the track: nothing is handed on, but the packet is cached for NACKs.
            #expect(accept(rtpPacket(payloadType: 100, sequence: sequence, timestamp: 3000, ssrc: 1111,
                                     payload: vp8Payload(pictureId: sequence, start: true, keyframe: false))) == nil)
        }
        let cache = try #require(track.layers[0].cache)
        #expect(cache.entry(12) != nil && cache.entry(15) == nil)
        #expect(track.layers[0].statistics.received == 5)
        #expect(lone.counters[.packetsDropped] == 0)
    }
}
