/// How many bytes of retransmissions one subscriber may still be sent (the call contract: a NACK
/// flood costs the server no more than a bounded fraction of that subscriber's own bitrate).
///
/// A token bucket filled by what the subscriber is sent: every forwarded packet adds
/// `1/shareDivisor` of its size, up to `burst`, and every retransmission takes its size. So over
/// any stretch of time, retransmitted bytes <= sent bytes / `shareDivisor` + `burst`, whatever
/// the NACKs ask for. Real loss (a few percent) stays far inside it; a subscriber NACKing
/// everything gets a fifth of its bitrate again at most and the rest is dropped and counted.
/// Two integers, updated in place on the media thread: no allocation, no clock.
struct RetransmitBudget {
    /// Retransmissions may be up to 1/5 (20 %) of the bytes sent.
    static let shareDivisor = 5
    /// What may be retransmitted beyond that share at once (and at the start, before anything
    /// was sent): about 50 full-size packets, a lost keyframe's worth.
    static let burst = 64 * 1024

    private(set) var available = RetransmitBudget.burst

    /// A packet of `bytes` went to the subscriber.
    @inline(__always) mutating func sent(bytes: Int) {
        available = min(available &+ bytes / Self.shareDivisor, Self.burst)
    }

    /// Takes `bytes` for one retransmission; false (nothing taken) when the budget cannot cover it.
    @inline(__always) mutating func spend(bytes: Int) -> Bool {
        guard available >= bytes else { return false }
        available -= bytes
        return true
    }
}

/// When each recent sequence number of one down-track was last retransmitted, so a number
/// NACKed again (or twice in one NACK) within a round trip is answered once: a retransmission
/// cannot have arrived before then (RFC 4585 §3.2 leaves repetition to the sender's judgement;
/// libwebrtc's sender does the same per RTT).
///
/// A fixed ring of `capacity` slots indexed by sequence number modulo capacity, the size of the
/// packet cache: a number too old for the ring is too old for the cache too. Allocated once
/// with the down-track; a lookup and an update are two array accesses.
struct RetransmitHistory {
    static let capacity = 512
    private var sequences: [UInt16]
    /// Microseconds on the engine's clock (since its epoch) plus one; 0 = never.
    private var times: [Int64]

    init() {
        sequences = Array(repeating: 0, count: Self.capacity)
        times = Array(repeating: 0, count: Self.capacity)
    }

    /// Whether `sequence` was retransmitted less than `interval` microseconds before `now`.
    @inline(__always) func isRecent(_ sequence: UInt16, now: Int64, interval: Int64) -> Bool {
        let slot = Int(sequence) & (Self.capacity - 1)
        return times[slot] != 0 && sequences[slot] == sequence && now &+ 1 &- times[slot] < interval
    }

    @inline(__always) mutating func record(_ sequence: UInt16, now: Int64) {
        let slot = Int(sequence) & (Self.capacity - 1)
        sequences[slot] = sequence
        times[slot] = now &+ 1
    }
}
