import ChatAPI
import ChatTestSupport
import Foundation
import NIOCore
import Testing

/// The limiters on their own, with a clock moved by hand.
@Suite struct LimiterTests {
    @Test("a token bucket allows its burst, then refills evenly")
    func tokenBucket() {
        let clock = TestClock()
        let buckets = TokenBuckets(rule: .init(limit: 30, windowMilliseconds: 10_000), clock: clock.wallClock)
        for _ in 0..<30 { #expect(buckets.acquire("ada") == nil) }
        #expect(buckets.acquire("ada") == 1, "one token comes back every 1/3 s")
        #expect(buckets.acquire("bob") == nil, "budgets are per key")
        clock.advance(seconds: 1)
        for _ in 0..<3 { #expect(buckets.acquire("ada") == nil) }
        #expect(buckets.acquire("ada") != nil)
    }

    @Test("a full bucket table forgets refilled or oldest buckets instead of refusing newcomers")
    func tokenBucketCapacity() {
        let clock = TestClock()
        let buckets = TokenBuckets(rule: .init(limit: 2, windowMilliseconds: 60_000), clock: clock.wallClock, capacity: 3)
        for key in ["a", "b", "c"] { #expect(buckets.acquire(key) == nil) }
        clock.advance(seconds: 1)
        #expect(buckets.acquire("c") == nil)
        #expect(buckets.acquire("c") != nil, "c spent its burst")
        #expect(buckets.acquire("d") == nil, "a newcomer is never refused for lack of room")
        #expect(buckets.count == 3)
        #expect(buckets.acquire("c") != nil, "an oldest bucket (a or b) went, not the draining c")
        clock.advance(seconds: 120)
        #expect(buckets.acquire("e") == nil)
        #expect(buckets.count <= 3)
    }

    @Test("the auth limiter's table stays bounded and still admits new clients when full")
    func authLimiterCapacity() {
        let clock = TestClock()
        let limiter = RateLimiter(rule: .init(limit: 1, windowMilliseconds: 30_000), clock: clock.wallClock, capacity: 3)
        for key in ["a", "b", "c"] { #expect(limiter.acquire(key) == nil) }
        #expect(limiter.acquire("c") != nil, "c is limited")
        #expect(limiter.acquire("d") == nil, "a new client is admitted although the table is full")
        #expect(limiter.count == 3)
        #expect(limiter.acquire("c") != nil, "the oldest window (a) was forgotten, not c's")
        for index in 0..<1000 { #expect(limiter.acquire("flood-\(index)") == nil) }
        #expect(limiter.count == 3)
        clock.advance(seconds: 30)
        #expect(limiter.acquire("late") == nil)
        #expect(limiter.count == 1, "expired windows are dropped")
    }

    @Test("the work gate runs at most its permits, queues a bounded number and refuses the rest")
    func workGate() async throws {
        let gate = WorkGate(permits: 1, queueLimit: 1)
        let (release, releaser) = AsyncStream<Void>.makeStream()
        let (started, starter) = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await gate.run {
                starter.yield()
                for await _ in release { break }
            }
        }
        var startedIterator = started.makeAsyncIterator()
        _ = await startedIterator.next()
        let waiter = Task { try await gate.run { 42 } }
        while gate.load.waiting < 1 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(gate.load == (running: 1, waiting: 1))
        await #expect(throws: APIError.rateLimited(retryAfter: 1)) { try await gate.run { 0 } }
        releaser.yield()
        try await holder.value
        #expect(try await waiter.value == 42)
        #expect(gate.load == (running: 0, waiting: 0))
    }

    @Test("password hashing goes through the gate: a full gate answers 429 at once", arguments: TestBackend.allCases)
    func loginFloodIsRefused(_ backend: TestBackend) async throws {
        let gate = WorkGate(permits: 1, queueLimit: 0)
        try await withAPI(backend, passwordGate: gate) { api in
            _ = try await api.signUp("Ada", email: "ada@example.com")
            let (release, releaser) = AsyncStream<Void>.makeStream()
            let (started, starter) = AsyncStream<Void>.makeStream()
            let holder = Task { try await gate.run { starter.yield(); for await _ in release { break } } }
            var iterator = started.makeAsyncIterator()
            _ = await iterator.next()
            let refused = try await api.request(.post, "/auth/login", json: ["email": "ada@example.com", "password": "correct horse battery"])
            #expect(refused.status == .tooManyRequests)
            #expect(refused.errorCode == "rate_limited")
            #expect(refused.headers[.retryAfter] == "1")
            releaser.yield()
            try await holder.value
            let accepted = try await api.request(.post, "/auth/login", json: ["email": "ada@example.com", "password": "correct horse battery"])
            #expect(accepted.status == .ok)
        }
    }

    @Test("the default bcrypt bound leaves a core free")
    func defaultGate() {
        #expect(WorkGate.forPasswordHashing(cores: 1).permits == 1)
        #expect(WorkGate.forPasswordHashing(cores: 2).permits == 1)
        #expect(WorkGate.forPasswordHashing(cores: 8).permits == 7)
    }
}
