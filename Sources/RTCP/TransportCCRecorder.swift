import ByteOrder
import RTP

/// Records when packets of one publisher transport arrive, by transport-wide sequence number
/// (the transport-wide-cc RTP header extension), and writes the transport-cc feedback packets
/// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1, RTPFB FMT=15) that the browser's
/// send-side bandwidth estimation runs on.
///
/// Storage is fixed: a ring of `capacity` arrival times indexed by the unwrapped sequence number
/// and two scratch buffers, all allocated once in `init`; `record` and `writeFeedback` allocate
/// nothing (keep the recorder in one place, e.g. a stored property, so its buffers are never shared
/// and copied on write). Time is passed in, in microseconds, so the type is pure.
///
/// Semantics, as libwebrtc's receiver does it:
/// - each feedback packet covers the sequence numbers from the first one not yet reported to the
///   highest recorded; packets never received in that range are reported as not received;
/// - a packet arriving late (below the next one to report, but still inside the ring) is recorded
///   and the next feedback starts again from it, so the sender learns it arrived after all;
/// - a duplicate keeps the first arrival time;
/// - sequence numbers more than `capacity` behind the highest are dropped unreported.
public struct TransportCCRecorder {
    /// Arrival time per ring slot, `notReceived` for a gap.
    private var arrivals: [Int64]
    /// Scratch for one feedback packet: the status symbol and the delta (250 µs units) per packet.
    private var symbols: [UInt8]
    private var deltas: [Int16]
    private let capacity: Int
    private var unwrapper = SequenceUnwrapper()
    /// First unwrapped sequence number not yet reported, nil before the first packet.
    private var start: Int64?
    /// Highest unwrapped sequence number recorded.
    private var highest: Int64 = 0
    private var feedbackCount: UInt8 = 0

    private static let notReceived = Int64.min
    private static let timeLimit: Int64 = 1 << 53
    /// Feedback header: common header, two SSRCs, base/count, reference time/fb count.
    private static let headerLength = 20

    /// `capacity` is the number of sequence numbers kept (clamped to 16...32768).
    public init(capacity: Int = 2048) {
        let capacity = min(max(capacity, 16), 32768)
        self.capacity = capacity
        arrivals = Array(repeating: Self.notReceived, count: capacity)
        symbols = Array(repeating: 0, count: capacity)
        deltas = Array(repeating: 0, count: capacity)
    }

    /// Whether recorded packets are waiting to be reported.
    public var hasPendingFeedback: Bool {
        guard let start else { return false }
        return start <= highest
    }

    @inline(__always)
    private func slot(_ unwrapped: Int64) -> Int {
        let c = Int64(capacity)
        return Int(((unwrapped % c) + c) % c)
    }

    public mutating func record(sequence: UInt16, arrivalMicroseconds: Int64) {
        // Clamped (to about ±285 years) so the delta arithmetic can never overflow; this also
        // keeps clear of the `notReceived` marker.
        let arrival = min(max(arrivalMicroseconds, -Self.timeLimit), Self.timeLimit)
        let u = unwrapper.unwrap(sequence)
        guard let start else {
            self.start = u
            highest = u
            arrivals[slot(u)] = arrival
            return
        }
        if u > highest {
            // Clear the slots between the old highest and `u`: nothing arrived there yet.
            var k = max(highest + 1, u - Int64(capacity) + 1)
            while k < u {
                arrivals[slot(k)] = Self.notReceived
                k += 1
            }
            arrivals[slot(u)] = arrival
            highest = u
            if highest - start >= Int64(capacity) { self.start = highest - Int64(capacity) + 1 }
            return
        }
        guard highest - u < Int64(capacity) else { return }  // its slot is reused already
        let s = slot(u)
        if arrivals[s] == Self.notReceived { arrivals[s] = arrival }
        if u < start { self.start = u }
    }

    /// Writes one feedback packet covering what was recorded since the last call and returns its
    /// length, or 0 when nothing is pending or `out` cannot hold even one packet's report (24
    /// bytes). If not everything fits in `out`, or a delta between two received packets exceeds
    /// the ±8.19 s a large delta can express, the packet stops there and the rest is kept: call
    /// again (`hasPendingFeedback`) to send it. Every packet ends with a received packet.
    ///
    /// Encoding: the reference time is the first received packet's arrival rounded down to
    /// 64 ms (24 bits, wrapping); deltas are rounded to 250 µs against the time the receiver will
    /// reconstruct, so rounding errors do not add up. Chunks: a run length chunk for runs of 14 or
    /// more equal symbols (or 7 or more where the two-bit vector would be needed, or the tail),
    /// else a one-bit vector of 14 when no large delta is among them, else a two-bit vector of 7.
    public mutating func writeFeedback(into out: UnsafeMutableRawBufferPointer, senderSSRC: UInt32, mediaSSRC: UInt32) -> Int {
        guard let start, start <= highest, out.count >= Self.headerLength + 4 else { return 0 }
        let pending = Int(highest - start + 1)

        // Pass 1: symbols and deltas, and how many packets fit.
        var reference: Int64?
        var last: Int64 = 0  // reconstructed time of the previous received packet
        var deltaBytes = 0
        var included = 0  // packets in the feedback, ending at a received one
        var i = 0
        while i < pending {
            let arrival = arrivals[slot(start + Int64(i))]
            var size = 0
            var ticks: Int64 = 0
            if arrival == Self.notReceived {
                symbols[i] = 0
            } else {
                if reference == nil {
                    let r = Self.floorDiv(arrival, 64_000)
                    reference = r
                    last = r * 64_000
                }
                ticks = Self.floorDiv(arrival - last + 125, 250)
                if ticks >= 0 && ticks <= 255 {
                    size = 1
                    symbols[i] = 1
                } else if ticks >= Int64(Int16.min) && ticks <= Int64(Int16.max) {
                    size = 2
                    symbols[i] = 2
                } else {
                    break  // not expressible: the next packet starts here with a new reference
                }
                deltas[i] = Int16(truncatingIfNeeded: ticks)
            }
            // Bound: every chunk but the last covers at least 7 packets (see the chunk rules).
            let bound = (Self.headerLength + 2 * ((i + 1 + 6) / 7) + deltaBytes + size + 3) & ~3
            if bound > out.count { break }
            deltaBytes += size
            if size > 0 {
                last += ticks * 250
                included = i + 1
            }
            i += 1
        }
        guard included > 0, let reference else { return 0 }

        // Pass 2: chunks, then deltas, then zero padding to 32 bits.
        var o = Self.headerLength
        i = 0
        while i < included {
            let remaining = included - i
            let symbol = symbols[i]
            var run = 1
            while run < remaining && run < 0x1FFF && symbols[i + run] == symbol { run += 1 }
            let window14 = min(14, remaining)
            var hasLarge = false
            var k = 0
            while k < window14 {
                if symbols[i + k] == 2 { hasLarge = true }
                k += 1
            }
            if run >= 14 || run == remaining || (hasLarge && run >= 7) {
                out.writeBE16(UInt16(symbol) << 13 | UInt16(run), at: o)
                i += run
            } else if !hasLarge {
                var chunk: UInt16 = 0x8000
                k = 0
                while k < window14 {
                    chunk |= UInt16(symbols[i + k]) << (13 - UInt16(k))
                    k += 1
                }
                out.writeBE16(chunk, at: o)
                i += window14
            } else {
                let window7 = min(7, remaining)
                var chunk: UInt16 = 0xC000
                k = 0
                while k < window7 {
                    chunk |= UInt16(symbols[i + k]) << (12 - 2 * UInt16(k))
                    k += 1
                }
                out.writeBE16(chunk, at: o)
                i += window7
            }
            o += 2
        }
        i = 0
        while i < included {
            switch symbols[i] {
            case 1:
                out[o] = UInt8(truncatingIfNeeded: deltas[i])
                o += 1
            case 2:
                out.writeBE16(UInt16(bitPattern: deltas[i]), at: o)
                o += 2
            default:
                break
            }
            i += 1
        }
        let length = (o + 3) & ~3
        out.zero(from: o, count: length - o)

        writeRTCPHeader(out, count: TransportCCFeedback.format, packetType: RTCPPacketView.transportFeedback, totalLength: length)
        out.writeBE32(senderSSRC, at: 4)
        out.writeBE32(mediaSSRC, at: 8)
        out.writeBE16(UInt16(truncatingIfNeeded: start), at: 12)
        out.writeBE16(UInt16(included), at: 14)
        out.writeBE24(UInt32(truncatingIfNeeded: reference) & 0xFF_FFFF, at: 16)
        out[19] = feedbackCount
        feedbackCount &+= 1
        self.start = start + Int64(included)
        return length
    }

    @inline(__always)
    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}
