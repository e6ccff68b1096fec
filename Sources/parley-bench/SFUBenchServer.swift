import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The server the SFU benchmark loads: one it starts itself (`parley serve`, by default the
/// `parley` beside this program, as SwiftPM builds both into one folder; pinned with taskset, on
/// free ports with a temporary DATA_DIR) or one already running.
/// Also reads what the server says about itself: `/metrics` and its CPU time in `/proc`.
final class SFUBenchServer: @unchecked Sendable {  // fields are set once, before use from other tasks
    let baseURL: String
    let pid: Int?
    let mediaPort: UInt16?
    private let process: Process?
    private let dataDirectory: String?
    let logPath: String?

    private init(baseURL: String, pid: Int?, mediaPort: UInt16?, process: Process?, dataDirectory: String?, logPath: String?) {
        self.baseURL = baseURL
        self.pid = pid
        self.mediaPort = mediaPort
        self.process = process
        self.dataDirectory = dataDirectory
        self.logPath = logPath
    }

    static func existing(url: String, pid: Int?) -> SFUBenchServer {
        SFUBenchServer(baseURL: url.hasSuffix("/") ? String(url.dropLast()) : url, pid: pid, mediaPort: nil, process: nil,
                       dataDirectory: nil, logPath: nil)
    }

    /// Starts `parley serve` (`binary`, or the `parley` beside this program) pinned to `cpu` and
    /// waits until `/healthz` answers.
    static func spawn(binary: String?, cpu: Int, maxParticipants: Int) async throws -> SFUBenchServer {
        let executable = try binary ?? URL(fileURLWithPath: FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            .deletingLastPathComponent().appendingPathComponent("parley").path
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw BenchHTTP.BenchError(description: "no parley binary at \(executable): build it (swift build --product parley) or pass --parley-binary")
        }
        let directory = NSTemporaryDirectory() + "parley-sfu-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let httpPort = try freePort(type: SOCK_STREAM)
        let udpPort = try freePort(type: SOCK_DGRAM)
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in [
            "DATA_DIR": directory, "AUTH_RATE_LIMIT": "off", "REGISTRATION": "open", "BCRYPT_COST": "4", "RTC_PUBLIC_IP": "127.0.0.1",
            "RTC_UDP_PORT": "\(udpPort)", "RTC_ICE_TCP": "off", "PORT": "\(httpPort)", "HOST": "127.0.0.1",
            "LOG_LEVEL": "warning", "CALL_MAX_PARTICIPANTS": "\(maxParticipants)",
            "RATE_CONVERSATIONS": "off", "RATE_MEMBERS": "off", "WS_MAX_PER_ADDRESS": "off",
        ] { environment[key] = value }
        environment["DATABASE_URL"] = nil
        let logPath = directory + "/server.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/taskset")
        process.arguments = ["-c", "\(cpu)", executable, "serve"]
        process.environment = environment
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let server = SFUBenchServer(baseURL: "http://127.0.0.1:\(httpPort)", pid: Int(process.processIdentifier),
                                    mediaPort: udpPort, process: process, dataDirectory: directory, logPath: logPath)
        for _ in 0..<300 {
            if let (_, response) = try? await URLSession.shared.data(from: URL(string: server.baseURL + "/healthz")!),
               (response as? HTTPURLResponse)?.statusCode == 200 {
                return server
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        server.stop(keepLog: true)
        throw BenchHTTP.BenchError(description: "the server did not become healthy; its log (\(logPath)):\n\(text.suffix(3000))")
    }

    /// Stops a server this benchmark started (SIGTERM, then waits) and removes its data.
    func stop(keepLog: Bool) {
        guard let process else { return }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        if !keepLog, let dataDirectory { try? FileManager.default.removeItem(atPath: dataDirectory) }
    }

    /// A port the kernel just handed out and released (the usual race is acceptable here).
    static func freePort(type: __socket_type) throws -> UInt16 {
        let fd = socket(AF_INET, Int32(type.rawValue), 0)
        guard fd >= 0 else { throw BenchHTTP.BenchError(description: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw BenchHTTP.BenchError(description: "bind() failed") }
        return UInt16(bigEndian: address.sin_port)
    }

    /// The `parley_media_*` counters of `/metrics`.
    func mediaCounters() async throws -> [String: Double] {
        let (data, _) = try await URLSession.shared.data(from: URL(string: baseURL + "/metrics")!)
        var values: [String: Double] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix("parley_") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = Double(parts[1]) { values[String(parts[0])] = value }
        }
        return values
    }

    /// The server's user + system CPU time in seconds (`/proc/<pid>/stat` fields 14 and 15).
    func cpuSeconds() -> Double? {
        guard let pid, let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, so utime (14) and stime (15) are at 11 and 12.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Seconds the server's threads spent runnable but waiting for a CPU (the second field of
    /// `/proc/<pid>/task/*/schedstat`): how much other load on its core delayed it.
    func runQueueWaitSeconds() -> Double? {
        guard let pid else { return nil }
        return SFUBenchServer.runQueueWaitSeconds(pid: pid)
    }

    static func runQueueWaitSeconds(pid: Int) -> Double? {
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return nil }
        var total = 0.0
        for task in tasks {
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/schedstat", encoding: .utf8) else { continue }
            let fields = text.split(separator: " ")
            if fields.count >= 2, let wait = Double(fields[1]) { total += wait / 1e9 }
        }
        return total
    }

    /// One reading of the forwarded counter, taken right after the media thread published it
    /// (it does so once a second), so that window edges line up with its updates.
    struct Reading {
        var counters: [String: Double]
        var at: ContinuousClock.Instant
        var cpu: Double?
        var runQueueWait: Double?
        var forwarded: Double { counters["parley_media_packets_forwarded_total"] ?? 0 }
    }

    func readingAtTick() async throws -> Reading {
        let first = try await mediaCounters()
        let key = "parley_media_packets_received_total"
        for _ in 0..<60 {
            try await Task.sleep(for: .milliseconds(25))
            let now = try await mediaCounters()
            if now[key] != first[key] {
                return Reading(counters: now, at: .now, cpu: cpuSeconds(), runQueueWait: runQueueWaitSeconds())
            }
        }
        return Reading(counters: try await mediaCounters(), at: .now, cpu: cpuSeconds(), runQueueWait: runQueueWaitSeconds())
    }
}

/// Receive-queue drops per UDP socket, from `/proc/net/udp` and `udp6` (their last column):
/// tells drops at the server's socket from drops at the benchmark's own.
enum SFUBenchUDPDrops {
    static func byPort() -> [UInt16: Int] {
        var drops: [UInt16: Int] = [:]
        for file in ["/proc/net/udp", "/proc/net/udp6"] {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            add(text, to: &drops)
        }
        return drops
    }

    private static func add(_ text: String, to drops: inout [UInt16: Int]) {
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            guard fields.count >= 13, let colon = fields[1].lastIndex(of: ":"),
                  let port = UInt16(fields[1][fields[1].index(after: colon)...], radix: 16), let count = Int(fields[fields.count - 1])
            else { continue }
            drops[port, default: 0] += count
        }
    }
}
