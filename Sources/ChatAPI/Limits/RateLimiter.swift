import NIOCore
import Synchronization

/// A fixed-window counter per key (the auth routes' client addresses): at most `limit`
/// requests per `window` milliseconds.
///
/// Memory is bounded by `capacity` keys without ever refusing a newcomer for lack of room:
/// windows are kept in the order they opened, expired ones are dropped from the front as
/// time passes, and when the table is full of live windows the oldest is forgotten (that
/// client gets a fresh window early, which costs far less than refusing everyone new).
public final class RateLimiter: Sendable {
    public struct Rule: Sendable, Equatable {
        public var limit: Int
        public var windowMilliseconds: Int64
        public init(limit: Int, windowMilliseconds: Int64) {
            self.limit = limit
            self.windowMilliseconds = windowMilliseconds
        }

        /// Parses the rate syntax of AUTH_RATE_LIMIT and the RATE_* settings: `N/Ws` (e.g.
        /// `10/30s`), `N/Wm`, or `off` (nil).
        public init?(parsing text: String) throws {
            if text == "off" { return nil }
            let parts = text.split(separator: "/")
            guard parts.count == 2, let limit = Int(parts[0]), (1...1_000_000).contains(limit), let unit = parts[1].last,
                  let amount = Int64(parts[1].dropLast()), (1...86_400).contains(amount)
            else { throw ParseError(text: text) }
            switch unit {
            case "s": windowMilliseconds = amount * 1000
            case "m": windowMilliseconds = amount * 60_000
            default: throw ParseError(text: text)
            }
            self.limit = limit
        }

        public struct ParseError: Error, CustomStringConvertible {
            public var text: String
            public var description: String { "'\(text)' must look like 10/30s, 5/1m or off" }
        }
    }

    private struct Window { var start: Int64; var count: Int }
    private struct State {
        var windows: [String: Window] = [:]
        /// Every window opening, oldest first; an entry whose key has since opened a newer
        /// window is stale and skipped. At most two entries per live key.
        var openings = CircularBuffer<(key: String, start: Int64)>()
    }
    /// The default bound on remembered clients.
    public static let defaultCapacity = 100_000
    private let rule: Rule
    private let clock: WallClock
    private let capacity: Int
    private let state = Mutex(State())

    public init(rule: Rule, clock: WallClock, capacity: Int = RateLimiter.defaultCapacity) {
        precondition(capacity > 0)
        self.rule = rule
        self.clock = clock
        self.capacity = capacity
    }

    /// How many clients are remembered now (for tests and the bound).
    public var count: Int { state.withLock { $0.windows.count } }

    /// Counts a request; returns nil when allowed, or the seconds until the window reopens.
    public func acquire(_ key: String) -> Int? {
        let now = clock.now().milliseconds
        let rule = self.rule, capacity = self.capacity
        return state.withLock { state in
            // Drop expired windows and stale entries from the front.
            while let first = state.openings.first {
                let live = state.windows[first.key]
                if live?.start != first.start {
                    state.openings.removeFirst()
                } else if now - first.start >= rule.windowMilliseconds {
                    state.openings.removeFirst()
                    state.windows[first.key] = nil
                } else {
                    break
                }
            }
            if var window = state.windows[key], now - window.start < rule.windowMilliseconds {
                guard window.count < rule.limit else {
                    let remaining = window.start + rule.windowMilliseconds - now
                    return Int((remaining + 999) / 1000)
                }
                window.count += 1
                state.windows[key] = window
                return nil
            }
            // A new window. Full of live windows: forget the oldest.
            while state.windows[key] == nil, state.windows.count >= capacity, let first = state.openings.popFirst() {
                if state.windows[first.key]?.start == first.start { state.windows[first.key] = nil }
            }
            state.windows[key] = Window(start: now, count: 1)
            state.openings.append((key, now))
            return nil
        }
    }
}
