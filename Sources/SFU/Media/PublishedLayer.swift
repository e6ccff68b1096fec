/// One RTP stream a publisher sends for a track: the whole track, or one simulcast encoding
/// (RFC 8853) named by its `rid`. Its SSRC is learned from the first packet that names the rid
/// in the rtp-stream-id header extension (RFC 8852), or comes from the SDP's `a=ssrc` lines.
/// Confined to the media thread.
final class PublishedLayer {
    let rid: [UInt8]
    var ssrc: UInt32?
    var rtxSsrc: UInt32?
    /// Video only: the packets NACKs are answered from.
    let cache: PacketCache?
    var statistics: ReceiveStatistics
    var keyframeRequests = KeyframeRequestLimiter()
    /// Bits per second over the last measured second (0 = not being sent).
    private(set) var bitrate = 0
    private var bytesThisInterval = 0
    private(set) var lastPacketAt: ContinuousClock.Instant?

    init(rid: String?, kind: MediaKind, clockRate: UInt32) {
        self.rid = Array((rid ?? "").utf8)
        cache = kind == .video ? PacketCache() : nil
        statistics = ReceiveStatistics(clockRate: clockRate)
    }

    @inline(__always) func received(bytes: Int, now: ContinuousClock.Instant) {
        bytesThisInterval &+= bytes
        lastPacketAt = now
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
