import CodecTestSupport
import Testing
@testable import RTCP

/// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01
/// §3.1). aiortc (the Python peer available here) has no transport-cc decoder, so the format is
/// pinned by byte vectors worked out by hand from the draft's layout, and the recorder is checked
/// through the parser against those vectors and arrival patterns.
@Suite struct RTCPTransportCCTests {
    struct Report: Equatable {
        var sequence: UInt16
        var arrival: Int64?  // µs relative to the reference time
    }

    private func parse(_ bytes: [UInt8]) -> (feedback: (base: UInt16, count: Int, reference: Int32, fbCount: UInt8), reports: [Report])? {
        bytes.withUnsafeBytes { raw in
            guard let packet = RTCPPacketView(raw), packet.bytes.count == raw.count,
                  let fb = TransportCCFeedback(parsing: packet) else { return nil }
            var reports: [Report] = []
            fb.forEachPacket { reports.append(Report(sequence: $0, arrival: $1)) }
            return ((fb.baseSequence, fb.packetStatusCount, fb.referenceTime, fb.feedbackCount), reports)
        }
    }

    private func feedback(_ recorder: inout TransportCCRecorder, capacity: Int = 1200) -> [UInt8] {
        rtpWritten(capacity: capacity) { recorder.writeFeedback(into: $0, senderSSRC: 1, mediaSSRC: 0x1234_5678) }
    }

    /// Worked by hand: packets 65534 (t = 1 000 000 µs), 65535 (lost), 0 (1 000 500), 1 (999 000,
    /// earlier than 0: a negative delta) and 2 (1 100 000, 101 ms later: a large delta).
    /// Reference time floor(1 000 000 / 64 000) = 15 (960 000 µs). Deltas in 250 µs:
    /// 160 (small), 2 (small), -6 (large 0xFFFA), 404 (large 0x0194). Symbols 1 0 1 2 2 in one
    /// two-bit status vector chunk: 11 01 00 01 10 10 00 00 = 0xD1A0. 20 + 2 + 6 = 28 bytes, no padding.
    static let handWorked = rtpBytes("""
        8F CD 00 06  00 00 00 01  12 34 56 78  FF FE 00 05  00 00 0F 00
        D1 A0 A0 02  FF FA 01 94
        """)

    @Test func recorderWritesTheHandWorkedPacket() {
        var recorder = TransportCCRecorder()
        recorder.record(sequence: 65534, arrivalMicroseconds: 1_000_000)
        recorder.record(sequence: 0, arrivalMicroseconds: 1_000_500)
        recorder.record(sequence: 1, arrivalMicroseconds: 999_000)
        recorder.record(sequence: 2, arrivalMicroseconds: 1_100_000)
        #expect(feedback(&recorder) == Self.handWorked)
    }

    @Test func parserReadsTheHandWorkedPacket() {
        guard let (fb, reports) = parse(Self.handWorked) else { Issue.record("did not parse"); return }
        #expect(fb.base == 65534 && fb.count == 5 && fb.reference == 15 && fb.fbCount == 0)
        #expect(reports == [Report(sequence: 65534, arrival: 40_000), Report(sequence: 65535, arrival: nil),
                            Report(sequence: 0, arrival: 40_500), Report(sequence: 1, arrival: 39_000),
                            Report(sequence: 2, arrival: 140_000)])
    }

    /// Worked by hand: base 100, 20 packets, reference time -1 (0xFFFFFF), feedback count 7.
    /// Chunk 1: run length, symbol 1, run 10 = 0 01 0000000001010 = 0x200A.
    /// Chunk 2: one-bit vector for 110-119 = 1 0 1 1 0 0 0 0 0 1 (then 4 unused) = 0xAC10.
    /// 14 small deltas of 4 (1 ms), 20 + 4 + 14 = 38 bytes, zero padded to 40.
    static let runLengthAndVector = rtpBytes("""
        8F CD 00 09  00 00 00 01  12 34 56 78  00 64 00 14  FF FF FF 07
        20 0A AC 10  04 04 04 04  04 04 04 04  04 04 04 04  04 04 00 00
        """)

    @Test func parserReadsRunLengthAndOneBitVectorChunks() {
        guard let (fb, reports) = parse(Self.runLengthAndVector) else { Issue.record("did not parse"); return }
        #expect(fb.base == 100 && fb.count == 20 && fb.reference == -1 && fb.fbCount == 7)
        var expected: [Report] = (0..<10).map { Report(sequence: 100 + UInt16($0), arrival: Int64($0 + 1) * 1000) }
        let received: [Bool] = [true, false, true, true, false, false, false, false, false, true]
        var t: Int64 = 10_000
        for (i, r) in received.enumerated() {
            if r { t += 1000 }
            expected.append(Report(sequence: 110 + UInt16(i), arrival: r ? t : nil))
        }
        #expect(reports == expected)
    }

    @Test func parserRejectsTruncatedDeltasAndReservedSymbols() {
        // Claims 14 received packets but carries only 8 delta bytes.
        var truncated = Array(Self.runLengthAndVector.prefix(32))
        truncated[3] = 0x07
        #expect(parse(truncated) == nil)
        // A two-bit vector holding symbol 3 (reserved).
        #expect(parse(rtpBytes("8F CD 00 05  00 00 00 01  12 34 56 78  00 64 00 01  00 00 00 00  F0 00 00 00")) == nil)
        // Chunks missing.
        #expect(parse(rtpBytes("8F CD 00 04  00 00 00 01  12 34 56 78  00 64 00 01  00 00 00 00")) == nil)
    }

    @Test func nothingRecordedWritesNothing() {
        var recorder = TransportCCRecorder()
        #expect(feedback(&recorder).isEmpty)
        recorder.record(sequence: 5, arrivalMicroseconds: 0)
        #expect(!feedback(&recorder).isEmpty)
        #expect(feedback(&recorder).isEmpty)
        #expect(!recorder.hasPendingFeedback)
    }

    @Test func aLongLossRunUsesARunLengthChunk() {
        var recorder = TransportCCRecorder()
        recorder.record(sequence: 0, arrivalMicroseconds: 64_000)
        recorder.record(sequence: 100, arrivalMicroseconds: 164_000)
        let bytes = feedback(&recorder)
        // A one-bit vector for 0-13, then "86 not received" as a run (0 00 0000001010110).
        #expect(Array(bytes[20..<24]) == [0xA0, 0x00, 0x00, 0x56])
        guard let (fb, reports) = parse(bytes) else { Issue.record("did not parse"); return }
        #expect(fb.count == 101 && fb.reference == 1)
        #expect(reports.first == Report(sequence: 0, arrival: 0))
        #expect(reports.last == Report(sequence: 100, arrival: 100_000))
        #expect(reports.dropFirst().dropLast().allSatisfy { $0.arrival == nil })
    }

    @Test func feedbackCountIncrementsPerPacket() {
        var recorder = TransportCCRecorder()
        var counts: [UInt8] = []
        for s: UInt16 in 0..<3 {
            recorder.record(sequence: s, arrivalMicroseconds: Int64(s) * 1000)
            if let (fb, _) = parse(feedback(&recorder)) { counts.append(fb.fbCount) }
        }
        #expect(counts == [0, 1, 2])
    }

    /// Arrivals with losses, reordering, jitter, a wrap of the sequence number and a gap of 300 ms.
    private func pattern() -> [(sequence: UInt16, arrival: Int64)] {
        var rng = SeededGenerator(seed: 7)
        var list: [(UInt16, Int64)] = []
        var t: Int64 = 5_000_123
        var seq: UInt16 = 65_200
        for i in 0..<600 {
            t += Int64.random(in: 0...3000, using: &rng)
            if i == 300 { t += 300_000 }
            if i == 0 || Int.random(in: 0..<10, using: &rng) != 0 { list.append((seq, t)) }  // ~10 % lost
            seq &+= 1
        }
        // Reordering: some packets overtake their predecessor (the times stay in arrival order).
        for i in stride(from: 10, to: list.count - 1, by: 37) {
            (list[i].0, list[i + 1].0) = (list[i + 1].0, list[i].0)
        }
        return list
    }

    @Test func recordedArrivalsComeBackWithin125Microseconds() {
        let arrivals = pattern()
        var recorder = TransportCCRecorder()
        for a in arrivals { recorder.record(sequence: a.sequence, arrivalMicroseconds: a.arrival) }
        let bytes = feedback(&recorder, capacity: 4000)
        guard let (fb, reports) = parse(bytes) else { Issue.record("did not parse"); return }
        #expect(fb.base == 65_200 && fb.count == Int(arrivals.map { $0.sequence &- 65_200 }.max() ?? 0) + 1)
        let truth = Dictionary(uniqueKeysWithValues: arrivals.map { ($0.sequence, $0.arrival) })
        var received = 0
        for r in reports {
            if let arrival = r.arrival, let t = truth[r.sequence] {
                received += 1
                #expect(abs(arrival + Int64(fb.reference) * 64_000 - t) <= 125)
            } else {
                #expect(r.arrival == nil && truth[r.sequence] == nil)
            }
        }
        #expect(received == arrivals.count)
    }

    @Test func aSmallBufferSplitsTheFeedbackAcrossCalls() {
        let arrivals = pattern()
        var recorder = TransportCCRecorder()
        for a in arrivals { recorder.record(sequence: a.sequence, arrivalMicroseconds: a.arrival) }
        var next: UInt16 = 65_200
        var received = 0
        var packets = 0
        while recorder.hasPendingFeedback {
            let bytes = feedback(&recorder, capacity: 100)
            guard !bytes.isEmpty, bytes.count <= 100, let (fb, reports) = parse(bytes) else {
                Issue.record("no progress"); return
            }
            #expect(fb.base == next)  // contiguous: nothing skipped, nothing repeated
            #expect(fb.fbCount == UInt8(packets))
            #expect(reports.last?.arrival != nil)  // each packet ends with a received packet
            next = fb.base &+ UInt16(fb.count)
            received += reports.filter { $0.arrival != nil }.count
            packets += 1
        }
        #expect(packets > 5)
        #expect(received == arrivals.count)
    }

    @Test func aDeltaBeyondTheLargeRangeStartsANewPacket() {
        var recorder = TransportCCRecorder()
        recorder.record(sequence: 1, arrivalMicroseconds: 0)
        recorder.record(sequence: 2, arrivalMicroseconds: 10_000_000)  // 10 s > 8.19 s
        guard let (first, r1) = parse(feedback(&recorder)) else { Issue.record("did not parse"); return }
        #expect(first.base == 1 && first.count == 1 && r1 == [Report(sequence: 1, arrival: 0)])
        guard let (second, r2) = parse(feedback(&recorder)) else { Issue.record("did not parse"); return }
        #expect(second.base == 2 && second.count == 1)
        #expect(r2.first?.arrival.map { $0 + Int64(second.reference) * 64_000 } == 10_000_000)
    }

    @Test func aLateArrivalIsReportedAgainFromItsSequence() {
        var recorder = TransportCCRecorder()
        recorder.record(sequence: 10, arrivalMicroseconds: 1000)
        recorder.record(sequence: 12, arrivalMicroseconds: 2000)
        guard let (first, r1) = parse(feedback(&recorder)) else { Issue.record("did not parse"); return }
        #expect(first.base == 10 && r1.map { $0.arrival != nil } == [true, false, true])
        recorder.record(sequence: 11, arrivalMicroseconds: 3000)
        guard let (second, r2) = parse(feedback(&recorder)) else { Issue.record("did not parse"); return }
        #expect(second.base == 11 && r2.map { $0.arrival != nil } == [true, true])
    }

    @Test func duplicatesKeepTheFirstArrival() {
        var recorder = TransportCCRecorder()
        recorder.record(sequence: 1, arrivalMicroseconds: 64_000)
        recorder.record(sequence: 1, arrivalMicroseconds: 90_000)
        #expect(parse(feedback(&recorder))?.reports == [Report(sequence: 1, arrival: 0)])
    }

    @Test func sequencesBeyondTheCapacityAreDroppedUnreported() {
        var recorder = TransportCCRecorder(capacity: 16)
        for s: UInt16 in 0..<40 { recorder.record(sequence: s, arrivalMicroseconds: Int64(s) * 1000) }
        guard let (fb, reports) = parse(feedback(&recorder)) else { Issue.record("did not parse"); return }
        #expect(fb.base == 24 && fb.count == 16 && reports.allSatisfy { $0.arrival != nil })
    }

    @Test func tooSmallABufferWritesNothingAndKeepsTheData() {
        var recorder = TransportCCRecorder()
        recorder.record(sequence: 1, arrivalMicroseconds: 0)
        #expect(feedback(&recorder, capacity: 23).isEmpty)
        #expect(recorder.hasPendingFeedback)
        #expect(feedback(&recorder, capacity: 24).count == 24)
    }

    @Test func extremeArrivalTimesDoNotOverflow() {
        var recorder = TransportCCRecorder()
        recorder.record(sequence: 1, arrivalMicroseconds: .min)
        recorder.record(sequence: 2, arrivalMicroseconds: .max)
        recorder.record(sequence: 3, arrivalMicroseconds: .max)
        var packets = 0
        while recorder.hasPendingFeedback, packets < 10 {
            #expect(parse(feedback(&recorder)) != nil)
            packets += 1
        }
        #expect(packets == 2)  // 1 alone, then 2 and 3 (delta 0)
    }

    @Test func hostileRecordingsAlwaysProduceParsableFeedback() {
        var rng = SeededGenerator(seed: 99)
        var recorder = TransportCCRecorder(capacity: 64)
        for _ in 0..<3000 {
            let seq = UInt16.random(in: 0...UInt16.max, using: &rng) % (Bool.random(using: &rng) ? 200 : 65535)
            let time = Int64.random(in: -20_000_000...20_000_000, using: &rng)
            recorder.record(sequence: seq, arrivalMicroseconds: time)
            if Int.random(in: 0..<5, using: &rng) == 0 {
                let size = Int.random(in: 0...300, using: &rng)
                let bytes = feedback(&recorder, capacity: size)
                #expect(bytes.count <= size)
                if !bytes.isEmpty { #expect(parse(bytes) != nil) }
            }
        }
    }
}
