import Foundation

/// One measurement window of the SFU benchmark and its markdown row.
struct SFUBenchResult: Sendable {
    var publishers: Int
    var subscribers: Int
    var seconds: Double
    /// Packets the publishers sent per second (into the server).
    var offeredPPS: Double
    /// `parley_media_packets_forwarded_total` per second; nil without a server to ask.
    var forwardedPPS: Double?
    /// RTP packets the subscribers received per second.
    var receivedPPS: Double
    var serverCPUPercent: Double?
    var cpuMicrosPerForwarded: Double?
    var clientCPUPercent: Double?
    var kernelLatency: Percentiles
    var readLatency: Percentiles
    var expected: Int
    var received: Int
    var verifyFailures: Int
    var serverDeltas: [String: Double]
    var serverSocketDrops: Int?
    var clientSocketDrops: Int
    /// Time the server's threads waited for a CPU (other load on its core), in percent of the window.
    var serverRunQueueWaitPercent: Double?

    var lossPercent: Double { expected > 0 ? 100 * Double(max(0, expected - received)) / Double(expected) : 0 }

    struct Percentiles: Sendable {
        var count: Int
        var p50: UInt32
        var p99: UInt32
        var max: UInt32

        init(_ samples: [UInt32]) {
            let sorted = samples.sorted()
            count = sorted.count
            func at(_ q: Double) -> UInt32 { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] }
            p50 = at(0.5)
            p99 = at(0.99)
            max = sorted.last ?? 0
        }
    }

    static let header = """
        | publishers | subscribers | offered pps | forwarded pps | server CPU | CPU us / fwd pkt | latency p50 / p99 / max (us) | read p50 / p99 (us) | loss | samples |
        | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
        """

    var row: String {
        func f(_ v: Double?, _ digits: Int = 0) -> String { v.map { String(format: "%.\(digits)f", $0) } ?? "-" }
        return "| \(publishers) | \(subscribers) | \(f(offeredPPS)) | \(f(forwardedPPS)) | \(f(serverCPUPercent)) % | "
            + "\(f(cpuMicrosPerForwarded, 2)) | \(kernelLatency.p50) / \(kernelLatency.p99) / \(kernelLatency.max) | "
            + "\(readLatency.p50) / \(readLatency.p99) | \(String(format: "%.3f", lossPercent)) % | \(kernelLatency.count) |"
    }

    /// The lines under the table: counts behind the row, for judging it.
    var details: String {
        var lines: [String] = []
        lines.append(String(format: "  window %.1f s; subscribers received %.0f RTP pkt/s; expected %d, received %d (%d missing); ",
                            seconds, receivedPPS, expected, received, max(0, expected - received))
            + "client CPU \(clientCPUPercent.map { String(format: "%.0f", $0) } ?? "-") %; verify failures \(verifyFailures)")
        lines.append("  socket receive-queue drops: server \(serverSocketDrops.map(String.init) ?? "-"), bench sockets \(clientSocketDrops); "
            + "server threads waiting for a CPU: \(serverRunQueueWaitPercent.map { String(format: "%.1f", $0) } ?? "-") % of the window")
        let names = ["packets_received", "packets_forwarded", "bytes_forwarded", "packets_dropped", "srtp_errors", "keyframe_requests_sent",
                     "nacks_received", "retransmissions", "retransmissions_missed", "retransmissions_dropped", "retransmissions_repeated",
                     "dtls_failures", "ice_consent_failures"]
        let server = names.compactMap { name in
            serverDeltas["parley_media_\(name)_total"].map { "\(name) \(Int($0))" }
        }
        if !server.isEmpty { lines.append("  server counters over the window: " + server.joined(separator: ", ")) }
        return lines.joined(separator: "\n")
    }
}
