import DTLS
import ICE
import ByteOrder
import RTP

/// The packet path: DTLS to the session, SRTP media from publishers forwarded to subscribers.
extension MediaEngine {
    func received(_ packet: UnsafeRawBufferPointer, kind: MediaPacketKind, from path: FiveTuple,
                  on transport: PeerTransport, router: MediaTransportRouter) {
        guard !transport.closed else { return }
        let now = clock()
        switch kind {
        case .dtls:
            transport.lastPath = path
            apply(transport.dtls.receive(datagram: packet, now: now), to: transport, router: router)
        case .rtp:
            if transport.role == .publish {
                receiveMedia(packet, on: transport, now: now, router: router)
            } else {
                counters.drop(bytes: packet.count)  // subscribers send RTCP only
            }
        case .rtcp:
            receiveRTCP(packet, on: transport, now: now, router: router)
        default:
            counters.drop(bytes: packet.count)
        }
    }

    /// One SRTP packet from a publisher: unprotect, account, cache, forward.
    private func receiveMedia(_ packet: UnsafeRawBufferPointer, on transport: PeerTransport, now: ContinuousClock.Instant,
                              router: MediaTransportRouter) {
        guard let plain = unprotect(packet, on: transport, rtcp: false) else { return }
        let length = plain.count
        guard let rtp = RtpPacketView(plain) else {
            counters.drop(bytes: packet.count)
            return
        }
        counters.add(.packetsReceived)
        counters.add(.bytesReceived, length)

        // Transport-wide sequence numbers are recorded for every packet, padding and RTX
        // included: the publisher's bandwidth estimate counts them all.
        if transport.transportCCId != 0, let element = rtp.extensionElement(id: transport.transportCCId), element.count >= 2 {
            let sequence = UInt16(element[0]) << 8 | UInt16(element[1])
            transport.transportCC.record(sequence: sequence, arrivalMicroseconds: microseconds(since: epoch, now))
        }

        guard let binding = transport.bindings[rtp.ssrc] ?? bind(rtp, on: transport) else {
            counters.drop(bytes: packet.count)
            return
        }
        let track = binding.track
        let layer = track.layers[binding.layer]
        var sequence = rtp.sequenceNumber
        var payload = rtp.payload
        if binding.isRTX {
            // RFC 4588 §4: the original sequence number, then the original payload. RTX with
            // nothing after the OSN is bandwidth probing padding.
            guard payload.count > 2, let original = RtxPacket.originalSequenceNumber(payload: payload) else {
                counters.drop(bytes: packet.count)
                return
            }
            sequence = original
            payload = UnsafeRawBufferPointer(rebasing: payload[2...])
        } else if payload.isEmpty {
            counters.drop(bytes: packet.count)  // padding only
            return
        }

        layer.received(bytes: length, now: now)
        if !binding.isRTX {
            layer.statistics.record(sequence: sequence, timestamp: rtp.timestamp,
                                    arrivalTicks: ticks(since: epoch, now, clockRate: track.media.codec.clockRate))
        }
        layer.cache?.store(sequenceNumber: sequence, timestamp: rtp.timestamp, marker: rtp.marker, payload: payload)

        var levelByte: UInt8 = 0
        var hasLevel = false
        if track.media.kind == .audio, track.media.extensions.audioLevel != 0,
           let element = rtp.extensionElement(id: track.media.extensions.audioLevel), let level = AudioLevel(element) {
            levelByte = element[0]
            hasLevel = true
            track.audioLevel.record(level: level.level)
        }
        guard !track.downTracks.isEmpty else { return }

        let isKeyframe: Bool
        // VP8's descriptor is read once per packet: for the keyframe bit and for the offsets of
        // the ids each subscriber's copy gets rewritten.
        var vp8: Vp8Descriptor?
        switch track.media.codec.name {
        case .opus: isKeyframe = true
        case .vp8:
            vp8 = Vp8Descriptor(payload)
            isKeyframe = vp8?.beginsKeyframe(in: payload) ?? false
        case .vp9: isKeyframe = KeyframeDetector.vp9(payload)
        case .h264: isKeyframe = KeyframeDetector.h264(payload)
        }
        if isKeyframe, track.isVideo { layer.keyframeRequests.keyframeArrived() }
        let absSendTime = AbsSendTime.value(microsecondsSinceStart: UInt64(microseconds(since: epoch, now)))
        let clockRate = track.media.codec.clockRate

        for down in track.downTracks where down.active {
            if down.currentLayer != binding.layer {
                guard down.targetLayer == binding.layer, isKeyframe else { continue }
                down.rewriter.rebase(sequence: sequence, timestamp: rtp.timestamp, pictureId: vp8?.pictureId, tl0: vp8?.tl0PicIdx,
                                     clockRate: clockRate, now: now)
                if down.currentLayer != nil { counters.add(.layerSwitches) }
                down.currentLayer = binding.layer
                down.layerSince = now
            }
            let outSequence = down.rewriter.sequence(for: sequence)
            let outTimestamp = down.rewriter.timestamp(for: rtp.timestamp)
            let outPicture = vp8?.pictureId.map { down.rewriter.pictureId(for: $0) }
            let outTl0 = vp8?.tl0PicIdx.map { down.rewriter.tl0(for: $0) }
            if send(payload, to: down, marker: rtp.marker, payloadType: down.config.payloadType, sequence: outSequence,
                    timestamp: outTimestamp, ssrc: down.config.ssrc, originalSequence: nil, vp8: vp8, pictureId: outPicture, tl0: outTl0,
                    audioLevel: hasLevel ? levelByte : nil, absSendTime: absSendTime, router: router) {
                down.rewriter.sent(sequence: outSequence, timestamp: outTimestamp, pictureId: outPicture, tl0: outTl0, now: now)
                down.packetsSent &+= 1
                down.octetsSent &+= UInt32(truncatingIfNeeded: payload.count)
            }
        }
    }

    /// Copies an SRTP or SRTCP packet into the receive buffer and unprotects it there (RFC 3711
    /// §3.3, §3.4); nil (counted) if the transport has no keys yet, the packet is too large, it
    /// comes from an SSRC past the transport's limit (`PeerTransport.inboundSsrcLimit`: libsrtp
    /// would make a stream for it), or it fails authentication or replay protection.
    func unprotect(_ packet: UnsafeRawBufferPointer, on transport: PeerTransport, rtcp: Bool) -> UnsafeRawBufferPointer? {
        // The SSRC libsrtp files the packet under is in the clear: RTP's at byte 8 (RFC 3550
        // §5.1), SRTCP's first packet's sender at byte 4 (§6.4).
        let ssrcOffset = rtcp ? 4 : 8
        guard let srtp = transport.srtp, packet.count <= Self.bufferSize - 64, packet.count >= ssrcOffset + 4,
              let source = packet.baseAddress, let buffer = receiveBuffer.baseAddress else {
            counters.drop(bytes: packet.count)
            return nil
        }
        let ssrc = packet.readBE32(at: ssrcOffset)
        let known = transport.hasInbound(ssrc)
        guard known || transport.hasRoomForInbound else {
            counters.add(.ssrcsRefused)
            counters.drop(bytes: packet.count)
            return nil
        }
        buffer.copyMemory(from: source, byteCount: packet.count)
        var length = packet.count
        do {
            if rtcp {
                try srtp.unprotectRTCP(receiveBuffer, length: &length)
            } else {
                try srtp.unprotectRTP(receiveBuffer, length: &length)
            }
        } catch {
            counters.add(.srtpErrors)
            return nil
        }
        if !known { transport.authenticated(ssrc) }
        return UnsafeRawBufferPointer(start: buffer, count: length)
    }

    /// Writes one packet for one subscriber into the send buffer (a fresh header in its
    /// numbering, the payload, the VP8 ids rewritten), protects it with its keys and queues it.
    /// `originalSequence` makes it an RTX packet (RFC 4588 §4). A forwarded packet (not a
    /// retransmission) adds to the subscriber's `RetransmitBudget`.
    func send(_ payload: UnsafeRawBufferPointer, to down: DownTrack, marker: Bool, payloadType: UInt8, sequence: UInt16,
              timestamp: UInt32, ssrc: UInt32, originalSequence: UInt16?, vp8: Vp8Descriptor?, pictureId: UInt16?, tl0: UInt8?,
              audioLevel: UInt8?, absSendTime: UInt32, retransmission: Bool = false, router: MediaTransportRouter) -> Bool {
        let subscriber = down.subscriber
        guard let srtp = subscriber.srtp, let path = subscriber.path, let base = sendBuffer.baseAddress else { return false }
        let headerLength = RtpHeaderWriter.write(
            into: sendBuffer, marker: marker, payloadType: payloadType, sequenceNumber: sequence, timestamp: timestamp, ssrc: ssrc,
            absSendTime: (down.config.absSendTimeId, absSendTime),
            audioLevel: (audioLevel == nil ? 0 : down.config.audioLevelId, audioLevel ?? 0),
            transportSequence: (0, 0), mid: (0, nil))
        let osnLength = originalSequence == nil ? 0 : 2
        var length = headerLength + osnLength + payload.count
        guard headerLength > 0, length + srtp.profile.rtpOverhead <= sendBuffer.count, let source = payload.baseAddress else {
            counters.drop(bytes: length)
            return false
        }
        if let originalSequence {
            base.storeBytes(of: UInt8(originalSequence >> 8), toByteOffset: headerLength, as: UInt8.self)
            base.storeBytes(of: UInt8(originalSequence & 0xFF), toByteOffset: headerLength + 1, as: UInt8.self)
        }
        let payloadStart = headerLength + osnLength
        (base + payloadStart).copyMemory(from: source, byteCount: payload.count)
        vp8?.write(pictureId: pictureId, tl0PicIdx: tl0,
                   into: UnsafeMutableRawBufferPointer(start: base + payloadStart, count: payload.count))
        do {
            try srtp.protectRTP(sendBuffer, length: &length)
        } catch {
            counters.add(.srtpErrors)
            return false
        }
        router.send(UnsafeRawBufferPointer(start: base, count: length), to: path)
        if !retransmission { subscriber.retransmitBudget.sent(bytes: payload.count) }
        counters.add(.packetsForwarded)
        counters.add(.bytesForwarded, length)
        return true
    }

    /// Finds the track layer of an SSRC not seen before, from the mid and rid header extensions
    /// (RFC 8843 §9.2, RFC 8852), or, for a transport whose tracks announced no SSRC and no
    /// extension says otherwise, from the payload type. Runs once per new SSRC, and on every
    /// packet of one that cannot be bound (a simulcast packet before any names its rid).
    private func bind(_ rtp: RtpPacketView, on transport: PeerTransport) -> SsrcBinding? {
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
        let binding = SsrcBinding(track: track, layer: layer, isRTX: isRTX)
        transport.bind(rtp.ssrc, to: binding)
        // A layer has one media and one RTX SSRC: the one replaced is unbound and its SRTP
        // stream freed, so a peer cycling through SSRCs holds no more state than one that does not.
        if isRTX {
            if let old = track.layers[layer].rtxSsrc, old != rtp.ssrc { transport.unbind(old) }
            track.layers[layer].rtxSsrc = rtp.ssrc
        } else {
            // A new SSRC is a new stream (RFC 3550 §8.2): sequence numbers, jitter and the
            // sender-report pairing of the old one say nothing about it.
            if let old = track.layers[layer].ssrc, old != rtp.ssrc {
                transport.unbind(old)
                track.layers[layer].statistics = ReceiveStatistics(clockRate: track.media.codec.clockRate)
            }
            track.layers[layer].ssrc = rtp.ssrc
            if transport.transportCCMediaSsrc == 0 { transport.transportCCMediaSsrc = rtp.ssrc }
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
