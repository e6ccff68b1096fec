/// What one subscriber gets of one published track, decided packet by packet: which simulcast
/// layer it follows, when it switches (only on a keyframe of the wanted layer, RFC 8853 §5.3
/// leaves the choice to the SFU and a decoder cannot start mid-picture), and the header each
/// forwarded packet carries in the subscriber's numbering (`StreamRewriter`).
///
/// Pure value type: it returns what to send and never sends. The engine applies a decision by
/// writing the packet (`RTPSender`) and reporting it back with `sent(_:now:)`; a packet that
/// could not be sent leaves the numbering where it was, so the subscriber sees no gap.
struct DownTrackForwarding {
    /// The layer being forwarded now, and the one wanted (switched to on its next keyframe).
    /// nil target: nothing is forwarded (quality `off`, or no live layer).
    private(set) var currentLayer: Int?
    private(set) var targetLayer: Int?
    /// When `currentLayer` last changed, and until when a probe to a higher layer is held.
    private(set) var layerSince: ContinuousClock.Instant?
    private(set) var probeUntil: ContinuousClock.Instant?
    private(set) var rewriter: StreamRewriter

    /// How long a subscriber stays on a layer below its wish before trying the next one up,
    /// and how long such a try lasts at least.
    static let probeAfter: Duration = .seconds(10)
    static let probeHold: Duration = .seconds(4)

    /// `targetLayer` starts at 0 for a track with one layer that is forwarded from its first
    /// keyframe (audio, and video without simulcast); a simulcast track waits for `choose`.
    init(rewriter: StreamRewriter, startsOnFirstLayer: Bool) {
        self.rewriter = rewriter
        if startsOnFirstLayer { targetLayer = 0 }
    }

    /// The header of one forwarded packet in the subscriber's numbering.
    struct Header: Equatable {
        var sequence: UInt16
        var timestamp: UInt32
        var pictureId: UInt16?
        var tl0: UInt8?
        /// This packet moved the subscriber from one layer to another (not from nothing).
        var switchedLayer: Bool
    }

    /// The packet of `layer` (its sequence number and timestamp in the publisher's numbering,
    /// VP8 ids when the codec has them): the header to forward it with, or nil when this
    /// subscriber does not get it (another layer, or the wanted layer before its keyframe).
    mutating func forward(layer: Int, isKeyframe: Bool, sequence: UInt16, timestamp: UInt32, pictureId: UInt16?, tl0: UInt8?,
                          clockRate: UInt32, now: ContinuousClock.Instant) -> Header? {
        var switched = false
        if currentLayer != layer {
            guard targetLayer == layer, isKeyframe else { return nil }
            rewriter.rebase(sequence: sequence, timestamp: timestamp, pictureId: pictureId, tl0: tl0, clockRate: clockRate, now: now)
            switched = currentLayer != nil
            currentLayer = layer
            layerSince = now
        }
        return Header(sequence: rewriter.sequence(for: sequence), timestamp: rewriter.timestamp(for: timestamp),
                      pictureId: pictureId.map { rewriter.pictureId(for: $0) }, tl0: tl0.map { rewriter.tl0(for: $0) },
                      switchedLayer: switched)
    }

    /// The packet `header` was sent: the numbering goes on from it.
    mutating func sent(_ header: Header, now: ContinuousClock.Instant) {
        rewriter.sent(sequence: header.sequence, timestamp: header.timestamp, pictureId: header.pictureId, tl0: header.tl0, now: now)
    }

    /// Chooses the layer to follow; returns the layer whose keyframe is needed now (the
    /// caller asks the publisher for one, RFC 4585 §6.3.1), or nil when nothing is to be asked.
    ///
    /// One layer: the only choice is whether to forward it (`off` stops video). Several: the
    /// `LayerSelector` choice from the measured layer bitrates (0 = not being sent) and the
    /// subscriber's share of its estimate. With no layer the current one goes too, so the
    /// packet path forwards nothing; coming back is then a switch from nothing, numbered on
    /// from the gap by the rewriter.
    ///
    /// A receiver-side estimate (REMB) only grows with what arrives, so a subscriber held below
    /// its wish would never be offered the better layer again: after `probeAfter` on a layer it
    /// is moved one live layer up and held there `probeHold`, long enough for its estimate to
    /// follow. If the estimate does not, the next choice moves it back down.
    mutating func choose(quality: SimulcastQuality, isVideo: Bool, layerBitrates: [Int], estimate: Int, active: Bool,
                         now: ContinuousClock.Instant) -> Int? {
        guard layerBitrates.count > 1 else {
            let target: Int? = quality == .off && isVideo ? nil : 0
            guard target != targetLayer else { return nil }
            targetLayer = target
            if target == nil {
                currentLayer = nil
                return nil
            }
            return active && currentLayer == nil ? 0 : nil
        }
        if let hold = probeUntil, now < hold { return nil }
        probeUntil = nil
        var target = LayerSelector.select(quality: quality, layerBitrates: layerBitrates, estimate: estimate)
        if let selected = target, selected == currentLayer, let since = layerSince, now - since >= Self.probeAfter,
           let up = LayerSelector.probe(quality: quality, layerBitrates: layerBitrates, from: selected) {
            target = up
            probeUntil = now + Self.probeHold
        }
        guard target != targetLayer else { return nil }
        targetLayer = target
        if target == nil { currentLayer = nil }
        if let target, target != currentLayer, active { return target }
        return nil
    }

    /// A new `call.quality` wish ends a probe at once.
    mutating func endProbe() { probeUntil = nil }

    /// Still waiting for the first keyframe of the wanted layer.
    var awaitsKeyframe: Bool { targetLayer != nil && targetLayer != currentLayer }
}
