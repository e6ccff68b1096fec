import SDP

/// One RTP stream a publisher sends for a track: the whole track, or one simulcast encoding
/// (RFC 8853) named by its `rid`. Its SSRC is learned from the first packet that names the rid
/// in the rtp-stream-id header extension (RFC 8852), or comes from the SDP's `a=ssrc` lines.
/// Confined to the media thread.
///
/// Made at negotiation with its statistics only (a few hundred bytes); the packet cache, the
/// large part (`PacketCache`, 768 KiB), is made when the layer's first packet arrives, so a
/// layer that is announced and never sent costs next to nothing.
final class PublishedLayer {
    let rid: [UInt8]
    var ssrc: UInt32?
    var rtxSSRC: UInt32?
    let isVideo: Bool
    /// Video only, once media arrived: the packets NACKs are answered from.
    private(set) var cache: PacketCache?
    private let live: LiveObjectCounter
    var statistics: ReceiveStatistics
    var keyframeRequests = KeyframeRequestLimiter()
    /// Bits per second over the last measured second (0 = not being sent).
    private(set) var bitrate = 0
    private var bytesThisInterval = 0
    private(set) var lastPacketAt: ContinuousClock.Instant?

    init(rid: String?, kind: MediaKind, clockRate: UInt32, live: LiveObjectCounter) {
        self.rid = Array((rid ?? "").utf8)
        isVideo = kind == .video
        statistics = ReceiveStatistics(clockRate: clockRate)
        self.live = live
        live.counts.layers += 1
    }

    deinit {
        live.counts.layers -= 1
        if cache != nil { live.counts.packetCaches -= 1 }
    }

    @inline(__always) func received(bytes: Int, now: ContinuousClock.Instant) {
        bytesThisInterval &+= bytes
        lastPacketAt = now
        if isVideo, cache == nil { makeCache() }
    }

    /// Once per layer, on its first packet: the only allocation the packet path makes.
    @inline(never) private func makeCache() {
        cache = PacketCache()
        live.counts.packetCaches += 1
    }

    /// Called once per `interval`; a layer silent for two seconds counts as stopped.
    func rollBitrate(interval: Duration, now: ContinuousClock.Instant) {
        let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) * 1e-18
        let measured = Int(Double(bytesThisInterval * 8) / max(seconds, 0.001))
        bytesThisInterval = 0
        if let lastPacketAt, now - lastPacketAt < .seconds(2) {
            bitrate = max(measured, 1)
        } else {
            bitrate = 0
        }
    }
}
