/// Chooses the simulcast layer one subscriber receives of one track (docs/protocol.md "Calls", simulcast):
/// the best layer that is at most the subscriber's `call.quality` wish, that the publisher is
/// actually sending, and whose measured bitrate fits the subscriber's estimated bandwidth
/// (with headroom). When nothing fits, the lowest live layer is sent rather than nothing:
/// a frozen tile is worse than a soft one. Pure, so it is tested without packets.
///
/// Layers are indexed from 0 = highest quality (rid `h`) upwards (`m`, then `l`).
enum LayerSelector {
    /// Share of the estimate the chosen layer may use; the rest absorbs audio and bursts.
    static let headroom = 0.85

    /// - Parameters:
    ///   - layerBitrates: bits per second measured per layer over the last second; 0 means the
    ///     publisher is not sending it (paused by its own bandwidth estimate, or not yet).
    ///   - estimate: the subscriber's estimated available bitrate in bits per second.
    /// - Returns: the layer index, or nil for none (quality `off`, or no live layer).
    static func select(quality: SimulcastQuality, layerBitrates: [Int], estimate: Int) -> Int? {
        let count = layerBitrates.count
        guard count > 0 else { return nil }
        let best: Int
        switch quality {
        case .off: return nil
        case .high: best = 0
        case .medium: best = min(1, count - 1)
        case .low: best = count - 1
        }
        let budget = Double(estimate) * headroom
        var lowestLive: Int?
        for index in best..<count where layerBitrates[index] > 0 {
            if Double(layerBitrates[index]) <= budget { return index }
            lowestLive = index
        }
        if let lowestLive { return lowestLive }
        // Nothing at or below the wish is live: take the closest live layer above it.
        return (0..<best).reversed().first { layerBitrates[$0] > 0 }
    }

    /// The next live layer above `from` that the wish allows, if any: where a subscriber held
    /// below its wish tries next.
    static func probe(quality: SimulcastQuality, layerBitrates: [Int], from current: Int) -> Int? {
        guard let wished = select(quality: quality, layerBitrates: layerBitrates, estimate: .max), wished < current else { return nil }
        return (wished..<current).reversed().first { layerBitrates[$0] > 0 }
    }
}
