import NIOCore
import Synchronization

/// Bounds concurrent expensive work (bcrypt): at most `permits` run at once, at most
/// `queueLimit` wait, and anyone past that is refused at once with 429 `rate_limited`, so a
/// login flood cannot take every core from calls and chat, nor pile up without bound.
public final class WorkGate: Sendable {
    private struct State {
        var running = 0
        var waiting: [CheckedContinuation<Void, any Error>] = []
    }
    public let permits: Int
    public let queueLimit: Int
    private let state = Mutex(State())

    public init(permits: Int, queueLimit: Int) {
        precondition(permits > 0 && queueLimit >= 0)
        self.permits = permits
        self.queueLimit = queueLimit
    }

    /// One less than the cores (at least one): a core stays free for media and the event loops.
    public static func forPasswordHashing(cores: Int = System.coreCount) -> WorkGate {
        let permits = max(1, cores - 1)
        return WorkGate(permits: permits, queueLimit: permits * 16)
    }

    /// Runs `work` once a permit is free; throws `rate_limited` when the queue is full.
    public func run<T: Sendable>(_ work: @Sendable () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await work()
    }

    /// Work running and waiting now.
    public var load: (running: Int, waiting: Int) { state.withLock { ($0.running, $0.waiting.count) } }

    private func acquire() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            enum Decision { case go, wait, refuse }
            let decision: Decision = state.withLock { state in
                if state.running < permits { state.running += 1; return .go }
                guard state.waiting.count < queueLimit else { return .refuse }
                state.waiting.append(continuation)
                return .wait
            }
            switch decision {
            case .go: continuation.resume()
            case .refuse: continuation.resume(throwing: APIError.rateLimited(retryAfter: 1))
            case .wait: break
            }
        }
    }

    /// Hands the permit to the first waiter, or gives it back.
    private func release() {
        let next: CheckedContinuation<Void, any Error>? = state.withLock { state in
            if state.waiting.isEmpty { state.running -= 1; return nil }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}
