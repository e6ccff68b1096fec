import ICE
import RTP

/// The packet path: what a peer sends reaches its transport (DTLS), the publisher ingest and
/// then every subscriber of the track (RTP), or the RTCP responder (RTCP). On the media thread,
/// synchronously from the router; no lock, no allocation.
extension MediaEngine: PeerTransportDelegate {
    func peerTransport(_ transport: PeerTransport, received packet: UnsafeRawBufferPointer, kind: MediaPacketKind,
                       from path: FiveTuple) {
        let now = clock()
        switch kind {
        case .dtls:
            handle(transport.receiveDTLS(packet, from: path, now: now, router: router), on: transport)
        case .rtp:
            guard transport.role == .publish else {
                counters.drop(bytes: packet.count)  // subscribers send RTCP only
                return
            }
            guard let plain = transport.unprotect(packet, into: receiveBuffer, rtcp: false) else { return }
            guard let rtp = RTPPacketView(plain) else {
                counters.drop(bytes: packet.count)
                return
            }
            if let ingested = ingest.accept(rtp, datagramSize: packet.count, on: transport, now: now) { forward(ingested, now: now) }
        case .rtcp:
            guard let plain = transport.unprotect(packet, into: receiveBuffer, rtcp: true) else { return }
            responder.receive(plain, on: transport, now: now)
        default:
            counters.drop(bytes: packet.count)
        }
    }

    func peerTransportClosed(_ transport: PeerTransport, reason: ICECloseReason) {
        guard !transport.closed else { return }
        if reason == .consentExpired { counters.add(.transportsClosedByConsent) }
        transport.lostICE()
        events(.transportClosed(transport.participant, transport.role,
                                reason: reason == .consentExpired ? "ICE consent expired" : "transport removed"))
    }

    /// One accepted packet to every subscriber of its track, each as its forwarding decides.
    private func forward(_ packet: IngestedPacket, now: ContinuousClock.Instant) {
        let track = packet.track
        let absSendTime = AbsSendTime.value(microsecondsSinceStart: UInt64(microseconds(since: epoch, now)))
        let clockRate = track.media.codec.clockRate
        for down in track.downTracks where down.active {
            guard let header = down.forwarding.forward(
                layer: packet.layer, isKeyframe: packet.isKeyframe, sequence: packet.sequence, timestamp: packet.timestamp,
                pictureId: packet.vp8?.pictureId, tl0: packet.vp8?.tl0PicIdx, clockRate: clockRate, now: now)
            else { continue }
            if header.switchedLayer { counters.add(.layerSwitches) }
            let out = RTPSender.Packet(
                marker: packet.marker, payloadType: down.config.payloadType, sequence: header.sequence, timestamp: header.timestamp,
                ssrc: down.config.ssrc, vp8: packet.vp8, pictureId: header.pictureId, tl0: header.tl0, audioLevel: packet.audioLevel,
                absSendTime: absSendTime)
            if sender.send(packet.payload, out, to: down) {
                down.forwarding.sent(header, now: now)
                down.packetsSent &+= 1
                down.octetsSent &+= UInt32(truncatingIfNeeded: packet.payload.count)
            }
        }
    }
}
