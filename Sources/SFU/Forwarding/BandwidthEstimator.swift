/// A subscriber's available downstream bandwidth as Parley sees it, from the subscriber's own
/// feedback (docs/protocol.md "Calls", simulcast): its receiver-side estimate in REMB messages
/// (draft-alvestrand-rmcat-remb, computed by the browser from the abs-send-time Parley stamps)
/// when it sends them, and the loss in its receiver reports otherwise (the loss-based part of
/// draft-ietf-rmcat-gcc-02 §6: more than 10 % lost lowers the estimate, under 2 % raises it).
/// Pure: fed with values and times, so it is tested without a network.
struct BandwidthEstimator {
    static let minimum = 100_000
    static let maximum = 20_000_000

    /// Bits per second.
    private(set) var estimate: Int
    private var lastREMB: ContinuousClock.Instant?
    private var lastIncrease: ContinuousClock.Instant?

    init(initial: Int = 2_500_000) { estimate = initial }

    /// A REMB from the subscriber: its own estimate wins.
    mutating func remb(bitrate: UInt64, now: ContinuousClock.Instant) {
        estimate = Self.clamp(Int(min(bitrate, UInt64(Self.maximum))))
        lastREMB = now
    }

    /// A receiver report's fraction lost (RFC 3550 §6.4.1, 8-bit fixed point). Ignored while
    /// REMB arrives (it already accounts for loss).
    mutating func receiverReport(fractionLost: UInt8, now: ContinuousClock.Instant) {
        if let lastREMB, now - lastREMB < .seconds(3) { return }
        let loss = Double(fractionLost) / 256
        if loss > 0.10 {
            estimate = Self.clamp(Int(Double(estimate) * (1 - 0.5 * loss)))
        } else if loss < 0.02 {
            if let lastIncrease, now - lastIncrease < .milliseconds(900) { return }
            estimate = Self.clamp(Int(Double(estimate) * 1.08) + 1_000)
            lastIncrease = now
        }
    }

    private static func clamp(_ value: Int) -> Int { max(minimum, min(maximum, value)) }
}
