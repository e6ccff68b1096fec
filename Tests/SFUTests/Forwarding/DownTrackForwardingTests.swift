import Testing
@testable import SFU

/// The per-subscriber forwarding decision alone: no packets, no engine, only what it returns.
@Suite struct DownTrackForwardingTests {
    let start = ContinuousClock.now

    func simulcast() -> DownTrackForwarding {
        DownTrackForwarding(rewriter: StreamRewriter(initialSequence: 1000, initialTimestamp: 50_000), startsOnFirstLayer: false)
    }

    func forward(_ f: inout DownTrackForwarding, layer: Int, keyframe: Bool, sequence: UInt16, timestamp: UInt32 = 9000,
                 at offset: Duration = .zero) -> DownTrackForwarding.Header? {
        f.forward(layer: layer, isKeyframe: keyframe, sequence: sequence, timestamp: timestamp, pictureId: nil, tl0: nil,
                  clockRate: 90000, now: start + offset)
    }

    @Test func nothingIsForwardedBeforeALayerIsChosen() {
        var f = simulcast()
        #expect(forward(&f, layer: 0, keyframe: true, sequence: 1) == nil)
    }

    @Test func theChosenLayerStartsOnItsKeyframeAndOthersAreSkipped() {
        var f = simulcast()
        let ask = f.choose(quality: .high, isVideo: true, layerBitrates: [1_500_000, 500_000, 150_000], estimate: 10_000_000,
                           active: true, now: start)
        #expect(ask == 0)  // the keyframe to ask the publisher for
        #expect(forward(&f, layer: 0, keyframe: false, sequence: 10) == nil)  // mid-picture: wait
        #expect(forward(&f, layer: 1, keyframe: true, sequence: 500) == nil)  // not the wanted layer
        let first = forward(&f, layer: 0, keyframe: true, sequence: 11)
        #expect(first?.sequence == 1000 && first?.timestamp == 50_000 && first?.switchedLayer == false)
        let second = forward(&f, layer: 0, keyframe: false, sequence: 12, timestamp: 12_000)
        #expect(second?.sequence == 1001 && second?.timestamp == 53_000)
        #expect(f.currentLayer == 0 && !f.awaitsKeyframe)
    }

    @Test func aSwitchWaitsForTheNewLayersKeyframeAndContinuesTheNumbering() throws {
        var f = simulcast()
        _ = f.choose(quality: .high, isVideo: true, layerBitrates: [1_500_000, 500_000, 150_000], estimate: 10_000_000,
                     active: true, now: start)
        let sent = try #require(forward(&f, layer: 0, keyframe: true, sequence: 11))
        f.sent(sent, now: start)
        // The estimate drops: the middle layer is wanted; the top one goes on until its keyframe.
        let ask = f.choose(quality: .high, isVideo: true, layerBitrates: [1_500_000, 500_000, 150_000], estimate: 700_000,
                           active: true, now: start + .milliseconds(500))
        #expect(ask == 1 && f.awaitsKeyframe)
        #expect(forward(&f, layer: 0, keyframe: false, sequence: 12, at: .milliseconds(510))?.sequence == 1001)
        #expect(forward(&f, layer: 1, keyframe: false, sequence: 300, at: .milliseconds(520)) == nil)
        let switched = try #require(forward(&f, layer: 1, keyframe: true, sequence: 301, timestamp: 7, at: .milliseconds(530)))
        #expect(switched.switchedLayer)
        #expect(switched.sequence == 1001)  // 1000 was the last one sent: no gap
        #expect(switched.timestamp == 50_000 &+ 90 * 530)  // advanced by the wall time since
        #expect(forward(&f, layer: 0, keyframe: true, sequence: 13, at: .milliseconds(540)) == nil)  // the old layer is left
    }

    @Test func anUnsentPacketLeavesTheNumberingWhereItWas() throws {
        var f = DownTrackForwarding(rewriter: StreamRewriter(initialSequence: 10, initialTimestamp: 0), startsOnFirstLayer: true)
        let first = try #require(forward(&f, layer: 0, keyframe: true, sequence: 100))
        f.sent(first, now: start)
        _ = try #require(forward(&f, layer: 0, keyframe: false, sequence: 101))  // not sent (no path yet)
        // A new source after that: it follows the last packet actually sent.
        _ = f.choose(quality: .off, isVideo: true, layerBitrates: [0], estimate: 0, active: true, now: start)
        #expect(f.currentLayer == nil && f.targetLayer == nil)
        #expect(forward(&f, layer: 0, keyframe: true, sequence: 102) == nil)  // off forwards nothing
        #expect(f.choose(quality: .high, isVideo: true, layerBitrates: [0], estimate: 0, active: true, now: start) == 0)
        let back = try #require(forward(&f, layer: 0, keyframe: true, sequence: 9000, at: .milliseconds(100)))
        #expect(back.sequence == 11 && !back.switchedLayer)
    }

    @Test func audioIsNeverTurnedOffAndAsksForNothing() {
        var f = DownTrackForwarding(rewriter: StreamRewriter(initialSequence: 1, initialTimestamp: 0), startsOnFirstLayer: true)
        #expect(f.choose(quality: .off, isVideo: false, layerBitrates: [0], estimate: 0, active: true, now: start) == nil)
        #expect(f.targetLayer == 0)
        #expect(forward(&f, layer: 0, keyframe: true, sequence: 5) != nil)
    }

    @Test func aSubscriberHeldBelowItsWishProbesOneLayerUpAndIsHeldThere() throws {
        var f = simulcast()
        let rates = [1_500_000, 500_000, 150_000]
        #expect(f.choose(quality: .high, isVideo: true, layerBitrates: rates, estimate: 700_000, active: true, now: start) == 1)
        _ = try #require(forward(&f, layer: 1, keyframe: true, sequence: 1))
        // Before `probeAfter` it stays; after it, one layer up, held for `probeHold`.
        #expect(f.choose(quality: .high, isVideo: true, layerBitrates: rates, estimate: 700_000, active: true,
                         now: start + .seconds(9)) == nil)
        #expect(f.choose(quality: .high, isVideo: true, layerBitrates: rates, estimate: 700_000, active: true,
                         now: start + DownTrackForwarding.probeAfter) == 0)
        #expect(f.choose(quality: .high, isVideo: true, layerBitrates: rates, estimate: 100_000, active: true,
                         now: start + DownTrackForwarding.probeAfter + .seconds(1)) == nil)
        #expect(f.targetLayer == 0)
        // A new wish ends the probe at once.
        f.endProbe()
        #expect(f.choose(quality: .low, isVideo: true, layerBitrates: rates, estimate: 100_000, active: true,
                         now: start + DownTrackForwarding.probeAfter + .seconds(1)) == 2)
    }

    @Test func anInactiveDownTrackChoosesButAsksForNoKeyframe() {
        var f = simulcast()
        #expect(f.choose(quality: .medium, isVideo: true, layerBitrates: [1_500_000, 500_000, 150_000], estimate: 10_000_000,
                         active: false, now: start) == nil)
        #expect(f.targetLayer == 1)
    }
}
