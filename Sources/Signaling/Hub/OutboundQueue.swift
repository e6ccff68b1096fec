import NIOCore
import Synchronization

/// A connection's bounded queue of frames waiting to be written (docs/architecture.md "Budgets
/// and bounds"). Past half full, droppable frames (typing, presence) are dropped; a client that lets
/// it fill up is a slow consumer and is disconnected, so it never delays anyone else.
public final class OutboundQueue: Sendable {
    public enum Offer: Equatable, Sendable { case queued, dropped, overflow, closed }

    private struct State {
        var frames: [ByteBuffer] = []
        var waiter: CheckedContinuation<[ByteBuffer]?, Never>?
        var closed = false
        var overflowed = false
        var closeCode: UInt16?
        var count: Int { frames.count }
    }

    public let capacity: Int
    private let state = Mutex(State())

    public init(capacity: Int) { self.capacity = capacity }

    public func offer(_ frame: ByteBuffer, droppable: Bool) -> Offer {
        let (result, wake) = state.withLock { state -> (Offer, CheckedContinuation<[ByteBuffer]?, Never>?) in
            if state.closed { return (.closed, nil) }
            if droppable, state.count >= capacity / 2 { return (.dropped, nil) }
            if state.count >= capacity {
                state.closed = true
                state.overflowed = true
                state.frames = []
                let waiter = state.waiter
                state.waiter = nil
                return (.overflow, waiter)
            }
            if let waiter = state.waiter {
                state.waiter = nil
                return (.queued, waiter)
            }
            state.frames.append(frame)
            return (.queued, nil)
        }
        if let wake { wake.resume(returning: result == .queued ? [frame] : nil) }
        return result
    }

    /// The frames waiting, oldest first, once there is at least one; nil once closed.
    public func next() async -> [ByteBuffer]? {
        await withCheckedContinuation { continuation in
            let ready: [ByteBuffer]?? = state.withLock { state in
                if state.count > 0 {
                    let batch = state.frames
                    state.frames.removeAll(keepingCapacity: true)
                    return .some(batch)
                }
                if state.closed { return .some(nil) }
                state.waiter = continuation
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Closes the queue; what is queued is still handed out, and then the writer closes the
    /// connection with `code` when one is given.
    public func close(code: UInt16? = nil) {
        let waiter = state.withLock { state in
            if state.closeCode == nil { state.closeCode = code }
            state.closed = true
            let waiter = state.waiter
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: nil)
    }

    public var overflowed: Bool { state.withLock { $0.overflowed } }
    public var closeCode: UInt16? { state.withLock { $0.closeCode } }
    public var count: Int { state.withLock { $0.count } }
}
