import Foundation
import Synchronization
@testable import ICE

/// A transport handler that records what the router tells it and can echo media back on the
/// selected path. Called on the media I/O thread; read from the test.
final class RecordingHandler: MediaTransportHandler, Sendable {
    struct State {
        var selections: [ICESelectionChange] = []
        var received: [(kind: MediaPacketKind, bytes: [UInt8], path: FiveTuple)] = []
        var closed: [ICECloseReason] = []
    }

    let state = Mutex(State())
    let echo: Bool

    init(echo: Bool = false) { self.echo = echo }

    func mediaTransport(_ id: ICETransportID, received packet: UnsafeRawBufferPointer, kind: MediaPacketKind,
                        from path: FiveTuple, router: MediaTransportRouter) {
        let bytes = Array(packet)
        state.withLock { $0.received.append((kind, bytes, path)) }
        if echo { router.send(packet, on: id) }
    }

    func mediaTransport(_ id: ICETransportID, selected path: FiveTuple, previous: FiveTuple?, router: MediaTransportRouter) {
        state.withLock { $0.selections.append(ICESelectionChange(previous: previous, current: path)) }
    }

    func mediaTransportClosed(_ id: ICETransportID, reason: ICECloseReason) {
        state.withLock { $0.closed.append(reason) }
    }

    var snapshot: (selections: [ICESelectionChange], received: [(kind: MediaPacketKind, bytes: [UInt8], path: FiveTuple)], closed: [ICECloseReason]) {
        state.withLock { ($0.selections, $0.received, $0.closed) }
    }
}

/// A sink that keeps what the router sends (router unit tests).
final class RecordingSink: DatagramSink {
    var sent: [(bytes: [UInt8], to: FiveTuple)] = []
    func send(_ packet: UnsafeRawBufferPointer, to path: FiveTuple) { sent.append((Array(packet), path)) }
}

extension MediaIOThread {
    /// Runs `body` on the I/O thread and returns its result.
    func run<T: Sendable>(_ body: @escaping @Sendable (MediaTransportRouter) -> T) async -> T {
        await withCheckedContinuation { (c: CheckedContinuation<T, Never>) in
            execute { router in c.resume(returning: body(router)) }
        }
    }
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(5), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// A binding request as a controlling full agent sends it.
func bindingRequest(ufrag: String, peerUfrag: String = "peer", password: String, useCandidate: Bool = true,
                    transactionID: STUNTransactionID = .random()) -> [UInt8] {
    var attributes: [STUNAttribute] = [.username("\(ufrag):\(peerUfrag)"), .priority(0x6e00_01ff), .iceControlling(tieBreaker: 42)]
    if useCandidate { attributes.append(.useCandidate) }
    return try! STUNMessage(type: .bindingRequest, transactionID: transactionID, attributes: attributes)
        .serialized(integrityKey: STUNIntegrity.shortTermKey(password: password), fingerprint: true)
}
