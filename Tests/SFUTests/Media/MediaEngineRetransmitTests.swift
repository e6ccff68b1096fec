import DTLS
import ICE
import Testing
@testable import SFU
@testable import RTP

/// NACKs are answered from the cache only, each sequence number once per round trip, within
/// the subscriber's budget (README "Calls"); time is the test's clock.
@Suite struct MediaEngineRetransmitTests {
    let publisherId = ParticipantID(rawValue: 1)
    let subscriberId = ParticipantID(rawValue: 2)
    let otherId = ParticipantID(rawValue: 3)
    let track = TrackID(rawValue: 77)

    func downTrack(ssrc: UInt32) -> DownTrackConfig {
        DownTrackConfig(track: track, ssrc: ssrc, rtxSSRC: ssrc + 1, payloadType: 96, rtxPayloadType: 97,
                        absSendTimeId: 2, audioLevelId: 0, quality: .high)
    }

    /// A publisher of one VP8 track, a subscriber (SSRC 5555) and a second subscriber (6666).
    func setUp(clock: EngineHarness.ManualClock) throws -> (EngineHarness, publisher: TestPeer, subscriber: TestPeer, other: TestPeer) {
        let harness = try EngineHarness(clock: clock)
        let (publisher, subscriber) = try harness.publisherAndSubscriber(
            publisherId, subscriberId, track: track, media: MediaEngineBoundsTests.video(ssrc: 1111))
        let other = try harness.connect(otherId, role: .subscribe)
        harness.engine.setDownTracks(participant: subscriberId, [downTrack(ssrc: 5555)])
        harness.engine.setDownTracks(participant: otherId, [downTrack(ssrc: 6666)])
        return (harness, publisher, subscriber, other)
    }

    /// Sends `count` packets of `size` payload bytes (the first a keyframe); returns the
    /// sequence numbers `peer` saw.
    func publish(_ count: Int, size: Int = 100, from first: UInt16 = 1000, harness: EngineHarness, publisher: TestPeer,
                 subscribers: [TestPeer]) throws -> [[UInt16]] {
        for n in 0..<count {
            try harness.sendRTP(rtpPacket(payloadType: 100, sequence: first &+ UInt16(n), timestamp: 3000 * UInt32(n / 6), ssrc: 1111,
                                          payload: vp8Payload(pictureId: UInt16(n / 6), start: n % 6 == 0, keyframe: n == 0, size: size)),
                                from: publisher)
        }
        return try subscribers.map { try harness.received(by: $0).rtp.compactMap(RTPPacketView.parse).map(\.sequence) }
    }

    func value(_ harness: EngineHarness, _ name: MediaCounters.Name) -> Int { harness.engine.counters.values[name.rawValue] }

    func retransmissions(to peer: TestPeer, harness: EngineHarness) throws -> [UInt16] {
        try harness.received(by: peer).rtp.compactMap(RTPPacketView.parse).filter { $0.payloadType == 97 }
            .map { UInt16($0.payload[0]) << 8 | UInt16($0.payload[1]) }
    }

    @Test func aNumberListedSeveralTimesInOneNACKIsAnsweredOnce() throws {
        let clock = EngineHarness.ManualClock()
        let (harness, publisher, subscriber, other) = try setUp(clock: clock)
        let seen = try publish(10, harness: harness, publisher: publisher, subscribers: [subscriber, other])[0]
        try #require(seen.count == 10)
        let lost = seen[4]
        // PID lost, PID lost again, and lost once more as bit 0 of the entry before it.
        try harness.sendRTCP(nack(mediaSSRC: 5555, entries: [(lost, 0), (lost, 0), (lost &- 1, 1)]), from: subscriber)
        #expect(seen[3] == lost &- 1)
        #expect(try retransmissions(to: subscriber, harness: harness) == [lost, lost &- 1])  // each once
        #expect(value(harness, .retransmissions) == 2)
        #expect(value(harness, .retransmissionsRepeated) == 2)
        #expect(value(harness, .nacksReceived) == 4)
    }

    @Test func aNumberNackedAgainWithinARoundTripIsIgnoredAndAnsweredAfter() throws {
        let clock = EngineHarness.ManualClock()
        let (harness, publisher, subscriber, other) = try setUp(clock: clock)
        let both = try publish(10, harness: harness, publisher: publisher, subscribers: [subscriber, other])
        let seen = both[0]
        let lost = seen[6]
        try harness.sendRTCP(nack(mediaSSRC: 5555, entries: [(lost, 0)]), from: subscriber)
        #expect(try retransmissions(to: subscriber, harness: harness) == [lost])
        // No receiver report yet, so the round trip is taken as 50 ms.
        clock.advance(by: .milliseconds(30))
        try harness.sendRTCP(nack(mediaSSRC: 5555, entries: [(lost, 0)]), from: subscriber)
        #expect(try retransmissions(to: subscriber, harness: harness).isEmpty)
        #expect(value(harness, .retransmissionsRepeated) == 1)
        clock.advance(by: .milliseconds(25))
        try harness.sendRTCP(nack(mediaSSRC: 5555, entries: [(lost, 0)]), from: subscriber)
        #expect(try retransmissions(to: subscriber, harness: harness) == [lost])
        #expect(value(harness, .retransmissions) == 2)
        // Another subscriber asking for the same packet is not held back by the first one's copy.
        try harness.sendRTCP(nack(mediaSSRC: 6666, entries: [(both[1][6], 0)]), from: other)
        #expect(try retransmissions(to: other, harness: harness) == [both[1][6]])
        #expect(value(harness, .retransmissions) == 3)
    }

    @Test func theRepeatIntervalFollowsTheMeasuredRoundTrip() {
        #expect(RTCPResponder.repeatInterval(roundTrip: nil) == 50_000)
        #expect(RTCPResponder.repeatInterval(roundTrip: .milliseconds(5)) == 20_000)
        #expect(RTCPResponder.repeatInterval(roundTrip: .milliseconds(180)) == 180_000)
        // RFC 3550 §6.4.1: arrival - LSR - DLSR, in 1/65536 s. An SR sent at NTP 1000.5 s
        // (middle 32 bits 1000 << 16 | 0x8000), held 0.25 s by the receiver, answered at 1000.85 s:
        // 100 ms.
        let lsr: UInt32 = 1000 << 16 | 0x8000
        let now: UInt64 = (1000 << 32) | UInt64(0.85 * 4_294_967_296)
        let roundTrip = RTCPResponder.roundTrip(lastSR: lsr, delaySinceLastSR: 0x4000, ntpNow: now)
        #expect(roundTrip.map { $0 > .microseconds(99_950) && $0 < .microseconds(100_050) } == true)
        #expect(RTCPResponder.roundTrip(lastSR: 0, delaySinceLastSR: 0, ntpNow: now) == nil)
        #expect(RTCPResponder.roundTrip(lastSR: lsr &+ (1 << 16), delaySinceLastSR: 0, ntpNow: now) == nil)  // in the future
    }

    /// A subscriber NACKing everything gets at most its budget (a fifth of what it was sent,
    /// plus the burst); the rest is dropped and counted, and the other subscriber's NACK is
    /// still answered and its stream still flows.
    @Test func aNACKFloodIsHeldToTheSubscribersBudgetAndOthersAreUnaffected() throws {
        let clock = EngineHarness.ManualClock()
        let (harness, publisher, subscriber, other) = try setUp(clock: clock)
        let size = 1000
        let seen = try publish(400, size: size, harness: harness, publisher: publisher, subscribers: [subscriber, other])
        try #require(seen[0].count == 400 && seen[1].count == 400)
        let sentBytes = 400 * size
        // Every number, 25 times over, in NACKs of 100 entries with all 16 BLP bits set.
        for _ in 0..<25 {
            for start in stride(from: 0, to: 400, by: 17 * 20) {
                let entries = stride(from: start, to: min(start + 17 * 20, 400), by: 17).map { (seen[0][$0], UInt16(0xFFFF)) }
                try harness.sendRTCP(nack(mediaSSRC: 5555, entries: entries), from: subscriber)
            }
            clock.advance(by: .milliseconds(60))  // past the repeat interval each round
        }
        let repaired = try retransmissions(to: subscriber, harness: harness)
        // The bound: a fifth of what was sent plus the burst. The bucket holds at most the
        // burst, and nothing was sent during the flood, so the burst's worth went: copies while
        // it still covered a full-size packet.
        let cost = size + RTCPResponder.retransmitOverhead
        #expect(repaired.count <= (RetransmitBudget.burst + sentBytes / RetransmitBudget.shareDivisor) / cost)
        #expect(repaired.count == (RetransmitBudget.burst - RTCPResponder.fullPacketCost) / cost + 1)
        // Every number named (24 entries of 17 a round: 408, the last 8 never sent) is answered,
        // missed or dropped; once the budget was spent, all of them dropped.
        #expect(value(harness, .nacksReceived) == 25 * 408)
        #expect(value(harness, .retransmissionsDropped) + value(harness, .retransmissionsMissed) + repaired.count == 25 * 408)
        #expect(value(harness, .retransmissionsDropped) >= 25 * 408 - 8 - repaired.count)
        #expect(value(harness, .retransmissions) == repaired.count)

        // The other subscriber: its NACK is answered, and forwarding to it goes on.
        try harness.sendRTCP(nack(mediaSSRC: 6666, entries: [(seen[1][399], 0)]), from: other)
        #expect(try retransmissions(to: other, harness: harness) == [seen[1][399]])
        let more = try publish(6, size: size, from: 1400, harness: harness, publisher: publisher, subscribers: [other])
        #expect(more[0].count == 6)

        // Sending to the flooder again earns it budget back, a fifth at a time.
        _ = try publish(50, size: size, from: 1406, harness: harness, publisher: publisher, subscribers: [subscriber])
        clock.advance(by: .milliseconds(60))
        let before = value(harness, .retransmissions)
        try harness.sendRTCP(nack(mediaSSRC: 5555, entries: [(seen[0][399], 0)]), from: subscriber)
        #expect(value(harness, .retransmissions) == before + 1)
    }

    @Test func theBudgetIsAFifthOfWhatWasSentPlusTheBurst() {
        var budget = RetransmitBudget()
        var spent = 0
        for _ in 0..<1000 {
            budget.sent(bytes: 1200)
            while budget.spend(bytes: 1240) { spent += 1240 }
        }
        #expect(spent <= 1000 * 1200 / 5 + RetransmitBudget.burst)
        #expect(spent >= 1000 * 1200 / 5 + RetransmitBudget.burst - 2 * 1240)
        let afterwards = budget.spend(bytes: 1240)
        #expect(!afterwards)
        // It does not hoard: a quiet stretch of sending earns no more than the burst.
        for _ in 0..<10_000 { budget.sent(bytes: 1200) }
        #expect(budget.available == RetransmitBudget.burst)
    }
}
