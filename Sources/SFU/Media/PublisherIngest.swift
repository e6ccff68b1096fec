import RTP

/// A publisher's RTP packet, accepted: the track layer it belongs to and what forwarding needs
/// of it, read once for every subscriber.
struct IngestedPacket {
    let track: PublishedTrack
    let layer: Int
    /// The media sequence number (for RTX, the original one it repairs, RFC 4588 §4).
    let sequence: UInt16
    let timestamp: UInt32
    let marker: Bool
    /// The media payload (for RTX, after the original sequence number).
    let payload: UnsafeRawBufferPointer
    let isKeyframe: Bool
    /// VP8's payload descriptor, read once for the keyframe bit and the ids each subscriber's
    /// copy gets rewritten (RFC 7741 §4.2).
    let vp8: VP8Descriptor?
    /// The ssrc-audio-level byte to pass on (RFC 6464), when the packet has one.
    let audioLevel: UInt8?
}

/// What happens to every RTP packet a publisher sends, before any subscriber is looked at:
/// its SSRC is bound to a track layer (from the SDP, or learned from the mid and rid header
/// extensions, RFC 8843 §9.2, RFC 8852), its transport-wide sequence number is recorded for
/// congestion feedback, the layer's receive statistics (RFC 3550 §6.4.1) and bitrate are
/// updated, video is cached for NACKs, and audio levels are kept for the active speaker.
/// Counted drops for what cannot be forwarded (unbound SSRCs, padding). Confined to the media
/// thread; no allocation per packet (a layer's cache is made on its first packet).
struct PublisherIngest {
    let counters: LocalMediaCounters
    /// Arrival times count from here (transport-cc, jitter).
    let epoch: ContinuousClock.Instant

    /// The packet `rtp` (unprotected; `datagramSize` is its size on the wire) from `transport`:
    /// nil when it is not to be forwarded (dropped, or the track has no subscribers).
    func accept(_ rtp: RTPPacketView, datagramSize: Int, on transport: PeerTransport, now: ContinuousClock.Instant) -> IngestedPacket? {
        counters.add(.packetsReceived)
        counters.add(.bytesReceived, rtp.bytes.count)

        // Transport-wide sequence numbers are recorded for every packet, padding and RTX
        // included: the publisher's bandwidth estimate counts them all.
        if transport.transportCCId != 0, let element = rtp.extensionElement(id: transport.transportCCId), element.count >= 2 {
            let sequence = UInt16(element[0]) << 8 | UInt16(element[1])
            transport.transportCC.record(sequence: sequence, arrivalMicroseconds: microseconds(since: epoch, now))
        }

        guard let binding = transport.bindings[rtp.ssrc] ?? Self.bind(rtp, on: transport) else {
            counters.drop(bytes: datagramSize)
            return nil
        }
        let track = binding.track
        let layer = track.layers[binding.layer]
        var sequence = rtp.sequenceNumber
        var payload = rtp.payload
        if binding.isRTX {
            // RFC 4588 §4: the original sequence number, then the original payload. RTX with
            // nothing after the OSN is bandwidth probing padding.
            guard payload.count > 2, let original = RTXPacket.originalSequenceNumber(payload: payload) else {
                counters.drop(bytes: datagramSize)
                return nil
            }
            sequence = original
            payload = UnsafeRawBufferPointer(rebasing: payload[2...])
        } else if payload.isEmpty {
            counters.drop(bytes: datagramSize)  // padding only
            return nil
        }

        layer.received(bytes: rtp.bytes.count, now: now)
        if !binding.isRTX {
            layer.statistics.record(sequence: sequence, timestamp: rtp.timestamp,
                                    arrivalTicks: ticks(since: epoch, now, clockRate: track.media.codec.clockRate))
        }
        layer.cache?.store(sequenceNumber: sequence, timestamp: rtp.timestamp, marker: rtp.marker, payload: payload)

        var audioLevel: UInt8?
        if track.media.kind == .audio, track.media.extensions.audioLevel != 0,
           let element = rtp.extensionElement(id: track.media.extensions.audioLevel), let level = AudioLevel(element) {
            audioLevel = element[0]
            track.audioLevel.record(level: level.level)
        }
        // Nobody receives the track: the rest is forwarding's.
        guard !track.downTracks.isEmpty else { return nil }

        let isKeyframe: Bool
        var vp8: VP8Descriptor?
        switch track.media.codec.name {
        case .opus: isKeyframe = true
        case .vp8:
            vp8 = VP8Descriptor(payload)
            isKeyframe = vp8?.beginsKeyframe(in: payload) ?? false
        case .vp9: isKeyframe = KeyframeDetector.vp9(payload)
        case .h264: isKeyframe = KeyframeDetector.h264(payload)
        }
        if isKeyframe, track.isVideo { layer.keyframeRequests.keyframeArrived() }
        return IngestedPacket(track: track, layer: binding.layer, sequence: sequence, timestamp: rtp.timestamp, marker: rtp.marker,
                              payload: payload, isKeyframe: isKeyframe, vp8: vp8, audioLevel: audioLevel)
    }

    /// Finds the track layer of an SSRC not seen before, from the mid and rid header extensions
    /// (RFC 8843 §9.2, RFC 8852), or, for a transport whose tracks announced no SSRC and no
    /// extension says otherwise, from the payload type. Runs once per new SSRC, and on every
    /// packet of one that cannot be bound (a simulcast packet before any names its rid).
    static func bind(_ rtp: RTPPacketView, on transport: PeerTransport) -> SSRCBinding? {
        var track: PublishedTrack?
        if transport.midId != 0, let mid = rtp.extensionElement(id: transport.midId) {
            track = transport.tracks.first { $0.mid.withUnsafeBytes { $0.elementsEqual(mid) } }
        }
        if track == nil {
            // The one track with this payload type, counted in place: an SSRC that cannot be
            // bound comes here on each of its packets, and this path allocates nothing.
            var matches = 0
            for candidate in transport.tracks
            where candidate.media.codec.payloadType == rtp.payloadType || candidate.media.codec.rtxPayloadType == rtp.payloadType {
                matches += 1
                track = candidate
            }
            if matches != 1 { track = nil }
        }
        guard let track else { return nil }
        var isRTX = track.media.codec.rtxPayloadType == rtp.payloadType
        var layer = 0
        if track.layers.count > 1 {
            if transport.ridId != 0, let rid = rtp.extensionElement(id: transport.ridId), let index = track.layerIndex(rid: rid) {
                layer = index
            } else if transport.repairedRidId != 0, let rid = rtp.extensionElement(id: transport.repairedRidId),
                      let index = track.layerIndex(rid: rid) {
                layer = index
                isRTX = true
            } else {
                return nil
            }
        }
        let binding = SSRCBinding(track: track, layer: layer, isRTX: isRTX)
        transport.bind(rtp.ssrc, to: binding)
        // A layer has one media and one RTX SSRC: the one replaced is unbound and its SRTP
        // stream freed, so a peer cycling through SSRCs holds no more state than one that does not.
        if isRTX {
            if let old = track.layers[layer].rtxSSRC, old != rtp.ssrc { transport.unbind(old) }
            track.layers[layer].rtxSSRC = rtp.ssrc
        } else {
            // A new SSRC is a new stream (RFC 3550 §8.2): sequence numbers, jitter and the
            // sender-report pairing of the old one say nothing about it.
            if let old = track.layers[layer].ssrc, old != rtp.ssrc {
                transport.unbind(old)
                track.layers[layer].statistics = ReceiveStatistics(clockRate: track.media.codec.clockRate)
            }
            track.layers[layer].ssrc = rtp.ssrc
            if transport.transportCCMediaSSRC == 0 { transport.transportCCMediaSSRC = rtp.ssrc }
        }
        return binding
    }
}

@inline(__always)
func microseconds(since origin: ContinuousClock.Instant, _ now: ContinuousClock.Instant) -> Int64 {
    let elapsed = now - origin
    return elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
}

@inline(__always)
func ticks(since origin: ContinuousClock.Instant, _ now: ContinuousClock.Instant, clockRate: UInt32) -> Int64 {
    microseconds(since: origin, now) * Int64(clockRate) / 1_000_000
}
