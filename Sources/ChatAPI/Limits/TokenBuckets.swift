import Synchronization

/// A token bucket per key (a user id): `rule.limit` tokens at most, refilled evenly at
/// `rule.limit` per window, so a rule of `30/10s` allows a burst of 30 and 3 a second after.
/// Time comes from the injected clock.
///
/// Memory is bounded by `capacity` keys: a bucket that has refilled is the same as no bucket,
/// so when the table is full those are dropped; should every bucket still be draining, the
/// one touched longest ago is forgotten (its owner starts again with a full bucket) rather
/// than a newcomer refused.
public final class TokenBuckets: Sendable {
    private struct Bucket { var tokens: Double; var last: Int64 }

    public let rule: RateLimiter.Rule
    private let clock: WallClock
    private let capacity: Int
    private let state = Mutex<[String: Bucket]>([:])

    public init(rule: RateLimiter.Rule, clock: WallClock, capacity: Int = RateLimiter.defaultCapacity) {
        precondition(capacity > 0)
        self.rule = rule
        self.clock = clock
        self.capacity = capacity
    }

    /// How many keys are remembered now.
    public var count: Int { state.withLock { $0.count } }

    private var perMillisecond: Double { Double(rule.limit) / Double(rule.windowMilliseconds) }

    /// Takes one token; nil when allowed, else the whole seconds until a token is back.
    public func acquire(_ key: String) -> Int? {
        let now = clock.now().milliseconds
        let burst = Double(rule.limit), rate = perMillisecond, capacity = self.capacity
        return state.withLock { buckets in
            var bucket: Bucket
            if let existing = buckets[key] {
                bucket = existing
                bucket.tokens = min(burst, bucket.tokens + Double(max(0, now - bucket.last)) * rate)
            } else {
                if buckets.count >= capacity { Self.makeRoom(&buckets, capacity: capacity, now: now, burst: burst, rate: rate) }
                bucket = Bucket(tokens: burst, last: now)
            }
            bucket.last = now
            guard bucket.tokens >= 1 else {
                buckets[key] = bucket
                let wait = (1 - bucket.tokens) / rate
                return max(1, Int((wait / 1000).rounded(.up)))
            }
            bucket.tokens -= 1
            buckets[key] = bucket
            return nil
        }
    }

    private static func makeRoom(_ buckets: inout [String: Bucket], capacity: Int, now: Int64, burst: Double, rate: Double) {
        buckets = buckets.filter { $0.value.tokens + Double(max(0, now - $0.value.last)) * rate < burst }
        if buckets.count >= capacity, let oldest = buckets.min(by: { $0.value.last < $1.value.last }) {
            buckets[oldest.key] = nil
        }
    }
}
