import RTP

/// Keeps one forwarded stream continuous for its subscriber while its source changes (a
/// simulcast layer switch, or a publisher restarting): RTP sequence numbers (RFC 3550 §5.1)
/// must go on from the last one sent with no gap, timestamps must advance by the time that
/// passed, and VP8 PictureID/TL0PICIDX (RFC 7741 §4.2) must go on too, or the receiver's
/// jitter buffer and decoder see a new stream out of nowhere.
///
/// The rewrite is one add per field, with offsets fixed at each `rebase`. Pure value type.
struct StreamRewriter {
    private(set) var sequenceOffset: UInt16 = 0
    private(set) var timestampOffset: UInt32 = 0
    private(set) var pictureIdOffset: UInt16 = 0
    private(set) var tl0Offset: UInt8 = 0
    /// The last values sent (output numbering).
    private(set) var lastSequence: UInt16
    private(set) var lastTimestamp: UInt32
    private(set) var lastPictureId: UInt16?
    private(set) var lastTl0: UInt8?
    private(set) var lastSentAt: ContinuousClock.Instant?
    /// The first output sequence number of the current source: NACKs for earlier numbers
    /// refer to another source and are not answered.
    private(set) var sourceStart: UInt16
    private(set) var started = false

    init(initialSequence: UInt16, initialTimestamp: UInt32) {
        lastSequence = initialSequence &- 1
        lastTimestamp = initialTimestamp
        sourceStart = initialSequence
    }

    /// Makes `sequence`/`timestamp` (and the VP8 ids, if the stream has them) of the new source's
    /// first packet follow the last packet sent. The timestamp advances by the wall time since
    /// then, in the codec's clock (at least 1 tick, so two frames never share a timestamp).
    mutating func rebase(sequence: UInt16, timestamp: UInt32, pictureId: UInt16?, tl0: UInt8?,
                         clockRate: UInt32, now: ContinuousClock.Instant) {
        sequenceOffset = (lastSequence &+ 1) &- sequence
        var advance: UInt32 = 1
        if started, let lastSentAt {
            let elapsed = now - lastSentAt
            let ticks = (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18) * Double(clockRate)
            advance = UInt32(max(1, min(ticks, Double(clockRate) * 10)))
        }
        timestampOffset = started ? (lastTimestamp &+ advance) &- timestamp : lastTimestamp &- timestamp
        if let pictureId {
            let next = lastPictureId.map { ($0 &+ 1) & 0x7FFF } ?? pictureId
            pictureIdOffset = (next &- pictureId) & 0x7FFF
        }
        if let tl0 {
            let next = lastTl0.map { $0 &+ 1 } ?? tl0
            tl0Offset = next &- tl0
        }
        sourceStart = sequence &+ sequenceOffset
        started = true
    }

    @inline(__always) func sequence(for input: UInt16) -> UInt16 { input &+ sequenceOffset }
    @inline(__always) func timestamp(for input: UInt32) -> UInt32 { input &+ timestampOffset }
    @inline(__always) func pictureId(for input: UInt16) -> UInt16 { (input &+ pictureIdOffset) & 0x7FFF }
    @inline(__always) func tl0(for input: UInt8) -> UInt8 { input &+ tl0Offset }

    /// Records a packet as sent (output numbering). Older (reordered) packets do not move the
    /// high-water marks back.
    mutating func sent(sequence: UInt16, timestamp: UInt32, pictureId: UInt16?, tl0: UInt8?, now: ContinuousClock.Instant) {
        if isNewer(sequence, than: lastSequence) {
            lastSequence = sequence
            lastTimestamp = timestamp
            lastSentAt = now
            if let pictureId { lastPictureId = pictureId }
            if let tl0 { lastTl0 = tl0 }
        }
    }

    /// The source's sequence number for an output number a subscriber NACKed, if it belongs to
    /// the current source and was sent.
    func input(forOutput sequence: UInt16) -> UInt16? {
        guard started, !isNewer(sourceStart, than: sequence), !isNewer(sequence, than: lastSequence) else { return nil }
        return sequence &- sequenceOffset
    }
}
