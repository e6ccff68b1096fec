import Testing
@testable import SFU

@Suite struct StreamRewriterTests {
    let start = ContinuousClock.now

    @Test func theFirstSourceStartsAtTheInitialNumbers() {
        var rewriter = StreamRewriter(initialSequence: 500, initialTimestamp: 7000)
        rewriter.rebase(sequence: 60000, timestamp: 123, pictureId: 10, tl0: 3, clockRate: 90000, now: start)
        #expect(rewriter.sequence(for: 60000) == 500)
        #expect(rewriter.sequence(for: 60001) == 501)
        #expect(rewriter.timestamp(for: 123) == 7000)
        #expect(rewriter.pictureId(for: 10) == 10)
    }

    @Test func aNewSourceContinuesAfterTheLastPacketSent() {
        var rewriter = StreamRewriter(initialSequence: 65534, initialTimestamp: 0)
        rewriter.rebase(sequence: 10, timestamp: 1000, pictureId: 0x7FFE, tl0: 255, clockRate: 90000, now: start)
        rewriter.sent(sequence: rewriter.sequence(for: 11), timestamp: rewriter.timestamp(for: 1000),
                      pictureId: rewriter.pictureId(for: 0x7FFF), tl0: rewriter.tl0(for: 255), now: start)
        // 100 ms later the source changes (a simulcast switch).
        rewriter.rebase(sequence: 40000, timestamp: 5_000_000, pictureId: 3, tl0: 9, clockRate: 90000, now: start + .milliseconds(100))
        #expect(rewriter.sequence(for: 40000) == 0)  // 65535 was the last sent
        #expect(rewriter.timestamp(for: 5_000_000) == 9000)  // 0 + 100 ms at 90 kHz
        #expect(rewriter.pictureId(for: 3) == 0)             // 0x7FFF + 1 wraps in 15 bits
        #expect(rewriter.tl0(for: 9) == 0)                   // 255 + 1 wraps in 8 bits
    }

    @Test func nacksMapBackOnlyWithinTheCurrentSource() {
        var rewriter = StreamRewriter(initialSequence: 100, initialTimestamp: 0)
        rewriter.rebase(sequence: 1000, timestamp: 0, pictureId: nil, tl0: nil, clockRate: 90000, now: start)
        for input in UInt16(1000)...1004 {
            rewriter.sent(sequence: rewriter.sequence(for: input), timestamp: 0, pictureId: nil, tl0: nil, now: start)
        }
        #expect(rewriter.input(forOutput: 102) == 1002)
        #expect(rewriter.input(forOutput: 105) == nil)  // not sent yet
        rewriter.rebase(sequence: 9000, timestamp: 0, pictureId: nil, tl0: nil, clockRate: 90000, now: start)
        #expect(rewriter.input(forOutput: 102) == nil)  // belongs to the previous source
        #expect(rewriter.sequence(for: 9000) == 105)
    }
}

@Suite struct LayerSelectorTests {
    @Test func theWishIsTheCeiling() {
        #expect(LayerSelector.select(quality: .high, layerBitrates: [1_500_000, 500_000, 150_000], estimate: 10_000_000) == 0)
        #expect(LayerSelector.select(quality: .medium, layerBitrates: [1_500_000, 500_000, 150_000], estimate: 10_000_000) == 1)
        #expect(LayerSelector.select(quality: .low, layerBitrates: [1_500_000, 500_000, 150_000], estimate: 10_000_000) == 2)
        #expect(LayerSelector.select(quality: .off, layerBitrates: [1_500_000, 500_000, 150_000], estimate: 10_000_000) == nil)
    }

    @Test func theEstimateLowersTheLayer() {
        #expect(LayerSelector.select(quality: .high, layerBitrates: [1_500_000, 500_000, 150_000], estimate: 1_000_000) == 1)
        #expect(LayerSelector.select(quality: .high, layerBitrates: [1_500_000, 500_000, 150_000], estimate: 300_000) == 2)
    }

    @Test func whenNothingFitsTheLowestLiveLayerIsSent() {
        #expect(LayerSelector.select(quality: .high, layerBitrates: [1_500_000, 500_000, 150_000], estimate: 100_000) == 2)
    }

    @Test func layersThePublisherStoppedAreSkipped() {
        #expect(LayerSelector.select(quality: .high, layerBitrates: [0, 500_000, 150_000], estimate: 10_000_000) == 1)
        #expect(LayerSelector.select(quality: .low, layerBitrates: [1_500_000, 0, 0], estimate: 10_000_000) == 0)
        #expect(LayerSelector.select(quality: .high, layerBitrates: [0, 0, 0], estimate: 10_000_000) == nil)
    }

    @Test func aSingleLayerTrackAlwaysGetsItsLayer() {
        #expect(LayerSelector.select(quality: .low, layerBitrates: [800_000], estimate: 100_000) == 0)
    }
}

@Suite struct PacketCacheTests {
    @Test func keepsPacketsBySequenceNumberUntilTheirSlotIsReused() {
        let cache = PacketCache(capacity: 4, slotSize: 16)
        for sequence in UInt16(65534)...65535 { store(cache, sequence) }
        store(cache, 0)
        store(cache, 1)
        let oldest = cache.entry(65534).map { Array($0.payload) }
        #expect(oldest == [0xFF, 0xFE])
        let timestamp = cache.entry(1)?.timestamp
        #expect(timestamp == 10)
        store(cache, 2)  // reuses 65534's slot
        #expect(cache.entry(65534) == nil)
        #expect(cache.entry(2) != nil)
        #expect(cache.entry(6) == nil)  // same slot, another number
    }

    @Test func oversizePayloadsAreNotKept() {
        let cache = PacketCache(capacity: 4, slotSize: 2)
        [UInt8](repeating: 1, count: 3).withUnsafeBytes { cache.store(sequenceNumber: 5, timestamp: 0, marker: false, payload: $0) }
        #expect(cache.entry(5) == nil)
    }

    func store(_ cache: PacketCache, _ sequence: UInt16) {
        [UInt8(sequence >> 8), UInt8(sequence & 0xFF)].withUnsafeBytes {
            cache.store(sequenceNumber: sequence, timestamp: UInt32(sequence) * 10, marker: sequence % 2 == 0, payload: $0)
        }
    }
}

@Suite struct KeyframeRequestLimiterTests {
    let start = ContinuousClock.now

    @Test func oneRequestPerIntervalAndARefusedOneBecomesDue() {
        var limiter = KeyframeRequestLimiter(interval: .milliseconds(500))
        let allowed1 = limiter.allow(now: start)
        #expect(allowed1)
        let allowed2 = limiter.allow(now: start + .milliseconds(100))
        #expect(!allowed2)
        limiter.defer()
        #expect(!limiter.due(now: start + .milliseconds(400)))
        #expect(limiter.due(now: start + .milliseconds(500)))
        let allowed3 = limiter.allow(now: start + .milliseconds(500))
        #expect(allowed3)
        #expect(!limiter.due(now: start + .seconds(5)))
    }

    @Test func aKeyframeServesTheDeferredRequest() {
        var limiter = KeyframeRequestLimiter()
        let allowed4 = limiter.allow(now: start)
        #expect(allowed4)
        limiter.defer()
        limiter.keyframeArrived()
        #expect(!limiter.due(now: start + .seconds(1)))
    }
}

@Suite struct BandwidthEstimatorTests {
    let start = ContinuousClock.now

    @Test func rembSetsTheEstimateWithinBounds() {
        var estimator = BandwidthEstimator()
        estimator.remb(bitrate: 800_000, now: start)
        #expect(estimator.estimate == 800_000)
        estimator.remb(bitrate: 10, now: start)
        #expect(estimator.estimate == BandwidthEstimator.minimum)
        estimator.remb(bitrate: .max, now: start)
        #expect(estimator.estimate == BandwidthEstimator.maximum)
    }

    @Test func heavyLossLowersAndLowLossRaisesWithoutREMB() {
        var estimator = BandwidthEstimator(initial: 1_000_000)
        estimator.receiverReport(fractionLost: 64, now: start)  // 25 % lost
        #expect(estimator.estimate == 875_000)
        estimator.receiverReport(fractionLost: 0, now: start + .seconds(1))
        #expect(estimator.estimate == 946_000)
        estimator.receiverReport(fractionLost: 0, now: start + .seconds(1) + .milliseconds(100))
        #expect(estimator.estimate == 946_000)  // at most one increase per ~second
    }

    @Test func lossReportsAreIgnoredWhileREMBArrives() {
        var estimator = BandwidthEstimator()
        estimator.remb(bitrate: 2_000_000, now: start)
        estimator.receiverReport(fractionLost: 200, now: start + .seconds(1))
        #expect(estimator.estimate == 2_000_000)
    }
}

@Suite struct ReceiveStatisticsTests {
    let start = ContinuousClock.now

    @Test func countsLossAcrossTheSequenceWrap() throws {
        var statistics = ReceiveStatistics(clockRate: 90000)
        for sequence: UInt16 in [65533, 65534, 0, 1, 3] {
            statistics.record(sequence: sequence, timestamp: 0, arrivalTicks: 0)
        }
        let reportValue = statistics.report(now: start)
        let report = try #require(reportValue)
        #expect(report.extendedHighest == 65536 + 3)
        #expect(report.cumulativeLost == 2)           // 65535 and 2
        #expect(report.fractionLost == UInt8(2 * 256 / 7))
        let nextValue = statistics.report(now: start)
        let next = try #require(nextValue)
        #expect(next.fractionLost == 0)               // a new interval
    }

    @Test func jitterFollowsRfc3550() throws {
        var statistics = ReceiveStatistics(clockRate: 8000)
        // Packets 20 ms apart in RTP time arriving with transit varying by 16 ticks each time.
        statistics.record(sequence: 1, timestamp: 0, arrivalTicks: 1000)
        statistics.record(sequence: 2, timestamp: 160, arrivalTicks: 1176)
        let reportValue = statistics.report(now: start)
        let report = try #require(reportValue)
        #expect(report.jitter == 1)  // |16| / 16
    }

    @Test func lastSenderReportIsEchoedWithItsDelay() throws {
        var statistics = ReceiveStatistics(clockRate: 90000)
        statistics.record(sequence: 1, timestamp: 0, arrivalTicks: 0)
        statistics.senderReport(ntp: 0x1122_3344_5566_7788, rtpTimestamp: 0, now: start)
        let reportValue = statistics.report(now: start + .milliseconds(500))
        let report = try #require(reportValue)
        #expect(report.lastSR == 0x3344_5566)
        #expect(report.delaySinceLastSR == 32768)
    }
}

@Suite struct ActiveSpeakerTests {
    @Test func loudestFirstAndQuietOnesLeftOut() {
        var loud = AudioLevelAccumulator(), soft = AudioLevelAccumulator(), silent = AudioLevelAccumulator()
        for _ in 0..<10 {
            loud.record(level: 20)
            soft.record(level: 45)
            silent.record(level: 70)
        }
        let ranked = ActiveSpeakerDetector.rank([(1, silent.take()!), (2, soft.take()!), (3, loud.take()!)])
        #expect(ranked == [3, 2])
        let again = loud.take()
        #expect(again == nil)
    }
}

@Suite struct LayerProbeTests {
    @Test func probesTheNextLiveLayerUpToTheWish() {
        #expect(LayerSelector.probe(quality: .high, layerBitrates: [1_500_000, 500_000, 150_000], from: 2) == 1)
        #expect(LayerSelector.probe(quality: .high, layerBitrates: [1_500_000, 0, 150_000], from: 2) == 0)
        #expect(LayerSelector.probe(quality: .medium, layerBitrates: [1_500_000, 500_000, 150_000], from: 1) == nil)
        #expect(LayerSelector.probe(quality: .high, layerBitrates: [1_500_000, 500_000, 150_000], from: 0) == nil)
    }
}
