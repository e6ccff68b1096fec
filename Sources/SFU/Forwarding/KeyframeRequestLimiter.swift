/// Rate limit for keyframe requests sent to one publisher layer. Every subscriber that joins,
/// switches layer or loses a picture asks for a keyframe; forwarding each PLI/FIR (RFC 4585
/// §6.3.1, RFC 5104 §4.3.1) would have a publisher in a large call encode keyframes back to
/// back. One request per `interval` reaches the publisher. A request refused because it came
/// too soon is not lost: it stays pending until the interval has passed (the owner's ticker
/// asks `due(now:)`), unless a keyframe arrives before that and serves it.
struct KeyframeRequestLimiter {
    var interval: Duration
    private(set) var lastSent: ContinuousClock.Instant?
    private(set) var pending = false

    init(interval: Duration = .milliseconds(500)) { self.interval = interval }

    /// True if a request may go to the publisher now (and records it).
    mutating func allow(now: ContinuousClock.Instant) -> Bool {
        if let lastSent, now - lastSent < interval { return false }
        lastSent = now
        pending = false
        return true
    }

    /// A request could not be sent now; send it when allowed.
    mutating func `defer`() { pending = true }

    /// A keyframe arrived: whoever was waiting has it.
    mutating func keyframeArrived() { pending = false }

    /// True if a deferred request may be sent now.
    func due(now: ContinuousClock.Instant) -> Bool {
        guard pending else { return false }
        guard let lastSent else { return true }
        return now - lastSent >= interval
    }
}
