import RTP

/// What Parley knows about one incoming RTP stream, kept for the receiver reports it sends the
/// publisher (RFC 3550 §6.4.2): the extended highest sequence number (A.1), packets expected and
/// lost, the fraction lost since the last report (A.3), the interarrival jitter (A.8), and the
/// last sender report's NTP middle bits with when it arrived (LSR/DLSR, §6.4.1). The same
/// report's RTP timestamp is kept for the SFU's own sender reports to subscribers.
/// Pure: arrival times are passed in.
struct ReceiveStatistics {
    let clockRate: UInt32
    private(set) var received: UInt64 = 0
    private var sequences = SequenceUnwrapper()
    private var baseSequence: Int64 = 0
    private var highest: Int64 = -1
    private var expectedPrior: Int64 = 0
    private var receivedPrior: UInt64 = 0
    /// Interarrival jitter in timestamp units, times 16 (A.8's fixed point).
    private var jitterQ4: Int64 = 0
    private var lastTransit: Int64?
    private var lastSenderReport: (middle: UInt32, rtpTimestamp: UInt32, at: ContinuousClock.Instant)?

    init(clockRate: UInt32) { self.clockRate = clockRate }

    /// One packet arrived (after SRTP, before forwarding). `arrival` is only used for jitter,
    /// in the stream's clock relative to any fixed origin.
    mutating func record(sequence: UInt16, timestamp: UInt32, arrivalTicks: Int64) {
        let extended = sequences.unwrap(sequence)
        if received == 0 {
            baseSequence = extended
            highest = extended
        } else if extended > highest {
            highest = extended
        }
        received += 1
        let transit = arrivalTicks - Int64(timestamp)
        if let lastTransit {
            let d = abs(transit - lastTransit)
            jitterQ4 += d - ((jitterQ4 + 8) >> 4)
        }
        lastTransit = transit
    }

    /// A sender report arrived for this stream (its NTP and RTP timestamps).
    mutating func senderReport(ntp: UInt64, rtpTimestamp: UInt32, now: ContinuousClock.Instant) {
        lastSenderReport = (UInt32(truncatingIfNeeded: ntp >> 16), rtpTimestamp, now)
    }

    /// The publisher's pairing of its media clock with wall time (RFC 3550 §6.4.1): the RTP
    /// timestamp of its last sender report and when that arrived.
    var senderReportPairing: (rtpTimestamp: UInt32, at: ContinuousClock.Instant)? {
        lastSenderReport.map { ($0.rtpTimestamp, $0.at) }
    }

    /// The fields of a report block (RFC 3550 §6.4.1) as of `now`, and starts a new interval
    /// for the fraction lost. Nil before the first packet.
    mutating func report(now: ContinuousClock.Instant) -> (fractionLost: UInt8, cumulativeLost: Int32, extendedHighest: UInt32,
                                                         jitter: UInt32, lastSR: UInt32, delaySinceLastSR: UInt32)? {
        guard received > 0 else { return nil }
        let expected = highest - baseSequence + 1
        let lost = expected - Int64(received)
        let expectedInterval = expected - expectedPrior
        let receivedInterval = Int64(received - receivedPrior)
        expectedPrior = expected
        receivedPrior = received
        let lostInterval = expectedInterval - receivedInterval
        let fraction: UInt8 = (expectedInterval <= 0 || lostInterval <= 0) ? 0 : UInt8(min(255, (lostInterval << 8) / expectedInterval))
        var lsr: UInt32 = 0, dlsr: UInt32 = 0
        if let lastSenderReport {
            lsr = lastSenderReport.middle
            let waited = now - lastSenderReport.at
            // DLSR in units of 1/65536 s.
            let seconds = Double(waited.components.seconds) + Double(waited.components.attoseconds) * 1e-18
            dlsr = UInt32(max(0, min(Double(UInt32.max), seconds * 65536)))
        }
        return (fraction, Int32(max(-0x80_0000, min(0x7F_FFFF, lost))), UInt32(truncatingIfNeeded: highest),
                UInt32(truncatingIfNeeded: jitterQ4 >> 4), lsr, dlsr)
    }
}
