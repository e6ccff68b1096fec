import ICE
import RTP

/// Writes RTP packets for subscribers: a fresh header in the down-track's numbering (RFC 3550
/// §5.1, with the extensions its answer kept, RFC 8285), the payload with its VP8 ids rewritten
/// (RFC 7741 §4.2), RTX's original sequence number when it is a repair packet (RFC 4588 §4),
/// protected with the subscriber's keys in one reused buffer and queued on its path.
/// Forwarding and retransmission both send through it. Confined to the media thread; no
/// allocation per packet.
final class RTPSender {
    private let router: MediaTransportRouter
    private let counters: LocalMediaCounters
    private let buffer: UnsafeMutableRawBufferPointer

    init(router: MediaTransportRouter, counters: LocalMediaCounters, bufferSize: Int) {
        self.router = router
        self.counters = counters
        buffer = .allocate(byteCount: bufferSize, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// The fields of one outgoing packet beside its payload.
    struct Packet {
        var marker: Bool
        var payloadType: UInt8
        var sequence: UInt16
        var timestamp: UInt32
        var ssrc: UInt32
        /// Set for an RTX packet: the sequence number it repairs.
        var originalSequence: UInt16? = nil
        /// The payload's VP8 descriptor and the ids to write into it.
        var vp8: VP8Descriptor? = nil
        var pictureId: UInt16? = nil
        var tl0: UInt8? = nil
        var audioLevel: UInt8? = nil
        var absSendTime: UInt32
    }

    /// Sends `payload` as `packet` to `down`'s subscriber. A forwarded packet (not a
    /// retransmission) adds to the subscriber's `RetransmitBudget`. False (a drop counted where
    /// it is one) when the subscriber has no keys or path yet, or the packet does not fit.
    func send(_ payload: UnsafeRawBufferPointer, _ packet: Packet, to down: DownTrack, retransmission: Bool = false) -> Bool {
        let subscriber = down.subscriber
        guard let srtp = subscriber.srtp, let path = subscriber.path, let base = buffer.baseAddress else { return false }
        let headerLength = RTPHeaderWriter.write(
            into: buffer, marker: packet.marker, payloadType: packet.payloadType, sequenceNumber: packet.sequence,
            timestamp: packet.timestamp, ssrc: packet.ssrc,
            absSendTime: (down.config.absSendTimeId, packet.absSendTime),
            audioLevel: (packet.audioLevel == nil ? 0 : down.config.audioLevelId, packet.audioLevel ?? 0),
            transportSequence: (0, 0), mid: (0, nil))
        let osnLength = packet.originalSequence == nil ? 0 : 2
        var length = headerLength + osnLength + payload.count
        guard headerLength > 0, length + srtp.profile.rtpOverhead <= buffer.count, let source = payload.baseAddress else {
            counters.drop(bytes: length)
            return false
        }
        if let original = packet.originalSequence {
            base.storeBytes(of: UInt8(original >> 8), toByteOffset: headerLength, as: UInt8.self)
            base.storeBytes(of: UInt8(original & 0xFF), toByteOffset: headerLength + 1, as: UInt8.self)
        }
        let payloadStart = headerLength + osnLength
        (base + payloadStart).copyMemory(from: source, byteCount: payload.count)
        packet.vp8?.write(pictureId: packet.pictureId, tl0PicIdx: packet.tl0,
                          into: UnsafeMutableRawBufferPointer(start: base + payloadStart, count: payload.count))
        do {
            try srtp.protectRTP(buffer, length: &length)
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
}
