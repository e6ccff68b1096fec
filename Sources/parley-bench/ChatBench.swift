import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HummingbirdWSClient
import Logging
import Synchronization

/// `parley-bench chat`: load a running server the way a busy team would. Signs up N users,
/// puts them in groups of a chosen size, holds one authenticated WebSocket per user, sends
/// messages at a chosen rate from random members, and measures delivery to every member.
/// Run it against a server started with REGISTRATION=open and its limits off (AUTH_RATE_LIMIT, RATE_MESSAGES,
/// RATE_CONVERSATIONS, WS_MAX_PER_ADDRESS: every connection comes from one address) and a low
/// BCRYPT_COST so the sign-ups are quick. Sign-ups refused 429 while the server's bounded
/// password-hashing queue is full are retried after their Retry-After.
struct BenchChat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "chat", abstract: "WebSocket fan-out load against a running server.")

    @Option(help: "Server base URL.") var url = "http://127.0.0.1:8080"
    @Option(help: "Concurrent authenticated WebSocket connections (one user each).") var connections = 1000
    @Option(help: "Members per group.") var groupSize = 100
    @Option(help: "Messages sent per second, in total.") var rate = 100
    @Option(help: "Seconds of sending.") var duration = 10
    @Option(help: "Seconds to hold the connections idle before sending (memory is read then).") var idle = 5
    @Option(help: "PID of the server, to read its resident memory.") var serverPid: Int?
    @Option(help: "Concurrent sign-ups and connection attempts.") var setupConcurrency = 64

    func run() async throws {
        let base = url.hasSuffix("/") ? String(url.dropLast()) : url
        let wsURL = base.replacingOccurrences(of: "http://", with: "ws://").replacingOccurrences(of: "https://", with: "wss://") + "/ws"
        print("bench chat: \(connections) connections, groups of \(groupSize), \(rate) msg/s for \(duration) s against \(base)")
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory >> 30) GiB; load generator and server share them")
        if Double(rate) / Double(connections) > 10 {
            print("warning: \(rate) msg/s over \(connections) connections comes near the server's 20 frames/s per connection; clients may be closed with 4429")
        }
        let started = ContinuousClock.now
        let users = try await Self.concurrently(count: connections, width: setupConcurrency) { index in
            try await BenchHTTP.signUp(base: base, index: index)
        }
        var groups: [String] = []
        for start in stride(from: 0, to: users.count, by: groupSize) {
            let members = Array(users[start..<min(start + groupSize, users.count)])
            groups.append(try await BenchHTTP.createGroup(base: base, owner: members[0], others: members.dropFirst().map(\.id)))
        }
        let conversations = groups
        print("setup: \(users.count) users, \(groups.count) groups in \(started.duration(to: .now))")

        // Read after the sign-ups (which grow the server's caches), so the difference is the connections'.
        try await Task.sleep(for: .seconds(1))
        let rssBefore = serverPid.flatMap(Self.residentKiB)
        let stats = BenchStats()
        let pool = BenchConnections(url: wsURL, stats: stats)
        let connectStart = ContinuousClock.now
        _ = try await Self.concurrently(count: users.count, width: setupConcurrency) { index in
            await pool.open(user: users[index], conversation: conversations[index / groupSize])
            return 0
        }
        let held = stats.authenticated
        print("connections held: \(held) of \(users.count) (opened in \(connectStart.duration(to: .now)))")
        try await Task.sleep(for: .seconds(idle))
        let rssIdle = serverPid.flatMap(Self.residentKiB)
        if let rssBefore, let rssIdle, held > 0 {
            print("server RSS: \(rssBefore / 1024) MiB before, \(rssIdle / 1024) MiB with \(held) idle connections: "
                + "\(String(format: "%.1f", Double(rssIdle - rssBefore) / Double(held))) KiB per connection")
        }

        // Paced sending: every 10 ms, the share of the rate due by then.
        let sendStart = ContinuousClock.now
        var sent = 0
        stats.resetDeliveries()
        while sendStart.duration(to: .now) < .seconds(duration) {
            let elapsed = sendStart.duration(to: .now)
            let due = Int(Double(rate) * (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
            while sent < due {
                await pool.sendFromRandomMember(sequence: sent)
                sent += 1
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        try await Task.sleep(for: .seconds(2))  // let the last deliveries land
        let sendSeconds = Double(duration)
        let report = stats.report()
        let rssEnd = serverPid.flatMap(Self.residentKiB)
        print("sent: \(sent) messages (\(Int(Double(sent) / sendSeconds))/s), send errors: \(stats.errors)")
        let expected = sent * min(groupSize, connections)
        print("delivered: \(report.count) of \(expected) expected message.new frames, \(Int(Double(report.count) / sendSeconds))/s over the sending window")
        print("send-to-deliver latency: p50 \(report.p50) ms, p99 \(report.p99) ms, max \(report.max) ms")
        if let rssEnd { print("server RSS at end: \(rssEnd / 1024) MiB") }
        await pool.closeAll()
    }

    /// Runs `body` for 0..<count with at most `width` at once; results in index order.
    static func concurrently<T: Sendable>(count: Int, width: Int, _ body: @escaping @Sendable (Int) async throws -> T) async throws -> [T] {
        try await withThrowingTaskGroup(of: (Int, T).self) { group in
            var results = [T?](repeating: nil, count: count)
            var next = 0
            while next < min(width, count) {
                let index = next
                group.addTask { (index, try await body(index)) }
                next += 1
            }
            while let (index, value) = try await group.next() {
                results[index] = value
                if next < count {
                    let index = next
                    group.addTask { (index, try await body(index)) }
                    next += 1
                }
            }
            return results.map { $0! }
        }
    }

    static func residentKiB(pid: Int) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return nil }
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }
}

struct BenchUser: Sendable {
    var id: String
    var token: String
}

/// The few REST calls the benchmark's setup makes.
enum BenchHTTP {
    struct BenchError: Error, CustomStringConvertible { var description: String }

    static func post(_ url: String, _ body: [String: Any], token: String? = nil) async throws -> [String: Any] {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        request.httpBody = try JSONSerialization.data(withJSONObject: body)
        var (data, response) = try await URLSession.shared.data(for: request)
        for _ in 0..<50 where (response as? HTTPURLResponse)?.statusCode == 429 {
            let wait = (response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Retry-After").flatMap(Int.init) ?? 1
            try await Task.sleep(for: .seconds(wait))
            (data, response) = try await URLSession.shared.data(for: request)
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            throw BenchError(description: "POST \(url): \(status) \(String(decoding: data, as: UTF8.self))")
        }
        return (try JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    static func signUp(base: String, index: Int) async throws -> BenchUser {
        let reply = try await post("\(base)/auth/register", [
            "email": "bench-\(index)-\(UUID().uuidString.prefix(8))@bench.invalid", "password": "bench-password",
            "displayName": "Bench \(index)",
        ])
        guard let user = reply["user"] as? [String: Any], let id = user["id"] as? String, let token = reply["accessToken"] as? String else {
            throw BenchError(description: "unexpected register reply")
        }
        return BenchUser(id: id, token: token)
    }

    static func createGroup(base: String, owner: BenchUser, others: [String]) async throws -> String {
        let reply = try await post("\(base)/conversations", ["kind": "group", "title": "bench", "memberIds": others], token: owner.token)
        guard let id = reply["id"] as? String else { throw BenchError(description: "unexpected group reply") }
        return id
    }
}

/// Counters and latency samples, shared by every connection's reader.
final class BenchStats: Sendable {
    private struct State {
        var authenticated = 0
        var errors = 0
        var latencies: [UInt64] = []
    }
    private let state = Mutex(State())

    func authenticatedOne() { state.withLock { $0.authenticated += 1 } }
    func errorOne() { state.withLock { $0.errors += 1 } }
    func delivered(latencyNanos: UInt64) { state.withLock { $0.latencies.append(latencyNanos) } }
    func resetDeliveries() { state.withLock { $0.latencies.removeAll(keepingCapacity: true) } }
    var authenticated: Int { state.withLock { $0.authenticated } }
    var errors: Int { state.withLock { $0.errors } }

    func report() -> (count: Int, p50: String, p99: String, max: String) {
        let sorted = state.withLock { $0.latencies }.sorted()
        func ms(_ quantile: Double) -> String {
            guard !sorted.isEmpty else { return "-" }
            let value = sorted[min(sorted.count - 1, Int(Double(sorted.count) * quantile))]
            return String(format: "%.2f", Double(value) / 1e6)
        }
        return (sorted.count, ms(0.5), ms(0.99), sorted.last.map { String(format: "%.2f", Double($0) / 1e6) } ?? "-")
    }
}

/// The benchmark's WebSocket connections: each reads its frames and timestamps deliveries;
/// senders are picked from them at random.
final class BenchConnections: Sendable {
    struct Sender: Sendable {
        var outbound: WebSocketOutboundWriter
        var conversation: String
    }
    final class Senders: Sendable {
        let list = Mutex<[Sender]>([])
    }
    private let url: String
    private let stats: BenchStats
    private let senders = Senders()
    private let tasks = Mutex<[Task<Void, Never>]>([])

    init(url: String, stats: BenchStats) {
        self.url = url
        self.stats = stats
    }

    /// Opens a connection and returns once it is authenticated (or failed).
    func open(user: BenchUser, conversation: String) async {
        let (ready, readyContinuation) = AsyncStream<Void>.makeStream()
        let stats = self.stats, senders = self.senders, url = self.url
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        let task = Task {
            _ = try? await WebSocketClient.connect(url: url + "?token=\(user.token)", configuration: .init(maxFrameSize: 1 << 20),
                                                   logger: logger) { inbound, outbound, _ in
                var authenticated = false
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    guard case .text(let text) = message else { continue }
                    if !authenticated, text.contains("\"auth.success\"") {
                        authenticated = true
                        stats.authenticatedOne()
                        senders.list.withLock { $0.append(Sender(outbound: outbound, conversation: conversation)) }
                        readyContinuation.finish()
                        continue
                    }
                    if text.hasPrefix(#"{"type":"message.new""#) || text.contains(#""type":"message.new""#),
                       let stamp = Self.stamp(in: text) {
                        let now = DispatchTime.now().uptimeNanoseconds
                        stats.delivered(latencyNanos: now > stamp ? now - stamp : 0)
                    } else if text.contains(#""type":"error""#) {
                        stats.errorOne()
                    }
                }
            }
            readyContinuation.finish()
        }
        tasks.withLock { $0.append(task) }
        for await _ in ready {}
    }

    /// The send time written into a benchmark message's content: `bench <uptime nanoseconds>`.
    static func stamp(in text: String) -> UInt64? {
        guard let range = text.range(of: "bench ") else { return nil }
        let digits = text[range.upperBound...].prefix { $0.isNumber }
        return UInt64(digits)
    }

    func sendFromRandomMember(sequence: Int) async {
        guard let sender = senders.list.withLock({ $0.randomElement() }) else { return }
        let frame = #"{"type":"message.send","data":{"conversationId":"\#(sender.conversation)","content":"bench \#(DispatchTime.now().uptimeNanoseconds)"}}"#
        do {
            try await sender.outbound.write(.text(frame))
        } catch {
            stats.errorOne()
        }
    }

    func closeAll() async {
        for task in tasks.withLock({ $0 }) { task.cancel() }
    }
}
