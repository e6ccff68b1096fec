import Synchronization

/// A fixed-window counter per key: at most `limit` requests per `window` milliseconds.
/// Memory is bounded: expired windows are swept as new ones start.
public final class RateLimiter: Sendable {
    public struct Rule: Sendable, Equatable {
        public var limit: Int
        public var windowMilliseconds: Int64
        public init(limit: Int, windowMilliseconds: Int64) {
            self.limit = limit
            self.windowMilliseconds = windowMilliseconds
        }

        /// Parses `AUTH_RATE_LIMIT`: `N/Ws` (e.g. `10/30s`), `N/Wm`, or `off` (nil).
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
            public var description: String { "AUTH_RATE_LIMIT '\(text)' must look like 10/30s, 5/1m or off" }
        }
    }

    private struct Window { var start: Int64; var count: Int }
    private struct State {
        var windows: [String: Window] = [:]
        var lastSweep: Int64 = 0
    }
    /// Past this many clients in one window, new ones are refused until old windows expire,
    /// so a flood of addresses cannot grow memory without bound.
    static let maxClients = 100_000
    private let rule: Rule
    private let clock: WallClock
    private let state = Mutex(State())

    public init(rule: Rule, clock: WallClock) {
        self.rule = rule
        self.clock = clock
    }

    /// Counts a request; returns nil when allowed, or the seconds until the window reopens.
    public func acquire(_ key: String) -> Int? {
        let now = clock.now().milliseconds
        let rule = self.rule
        return state.withLock { state in
            // Expired windows are swept at most once per window length.
            if now - state.lastSweep >= rule.windowMilliseconds {
                state.windows = state.windows.filter { now - $0.value.start < rule.windowMilliseconds }
                state.lastSweep = now
            }
            if state.windows[key] == nil, state.windows.count >= Self.maxClients {
                return Int((rule.windowMilliseconds + 999) / 1000)
            }
            var window = state.windows[key] ?? Window(start: now, count: 0)
            if now - window.start >= rule.windowMilliseconds { window = Window(start: now, count: 0) }
            guard window.count < rule.limit else {
                let remaining = window.start + rule.windowMilliseconds - now
                return Int((remaining + 999) / 1000)
            }
            window.count += 1
            state.windows[key] = window
            return nil
        }
    }
}
