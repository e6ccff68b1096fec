/// One published track as one subscriber receives it: Parley's SSRC and payload type for it in
/// the subscribe connection, the simulcast layer it gets, and the rewriter keeping its numbering
/// continuous. Confined to the media thread.
final class DownTrack {
    unowned let track: PublishedTrack
    unowned let subscriber: PeerTransport
    let config: DownTrackConfig
    /// The answer accepted it and the transport has SRTP keys: packets flow.
    var active = false
    var quality: SimulcastQuality
    /// The layer it follows and the numbering of what it is sent (pure; see the type).
    var forwarding: DownTrackForwarding
    var rtxSequence: UInt16
    /// For sender reports (RFC 3550 §6.4.1).
    var packetsSent: UInt32 = 0
    var octetsSent: UInt32 = 0
    /// Video only: when each recent sequence number was last retransmitted (answered once per round trip).
    var retransmitted: RetransmitHistory?
    private let live: LiveObjectCounter

    init(track: PublishedTrack, subscriber: PeerTransport, config: DownTrackConfig, live: LiveObjectCounter) {
        self.track = track
        self.subscriber = subscriber
        self.config = config
        self.live = live
        live.counts.subscribeSlots += 1
        if track.isVideo { retransmitted = RetransmitHistory() }
        self.quality = config.quality
        forwarding = DownTrackForwarding(
            rewriter: StreamRewriter(initialSequence: UInt16.random(in: 0...0x7FFF), initialTimestamp: UInt32.random(in: 0...UInt32.max)),
            startsOnFirstLayer: !track.isVideo || track.layers.count == 1)
        rtxSequence = UInt16.random(in: 0...0x7FFF)
    }

    var currentLayer: Int? { forwarding.currentLayer }
    var targetLayer: Int? { forwarding.targetLayer }

    deinit { live.counts.subscribeSlots -= 1 }
}
