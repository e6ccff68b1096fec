import ArgumentParser
import DTLS
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `parley-bench sfu`: synthetic call participants with real ICE, DTLS and SRTP over loopback,
/// in this process, against a Parley server in another (started here and pinned to one core,
/// unless `--server` names one). Publishers send Opus (50 pkt/s) and VP8 (30 frames/s at the
/// chosen bitrate) at real rates; every participant receives everyone else. Reports forwarded
/// packets per second, server CPU time per forwarded packet, added latency and loss.
struct BenchSFU: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sfu",
        abstract: "Load the SFU with synthetic WebRTC peers (ICE, DTLS, SRTP) and measure forwarding.")

    @Option(help: "Participants that publish Opus + VP8 (they also receive every other publisher).") var publishers = 1
    @Option(help: "Participants that only receive.") var subscribers = 10
    @Option(help: "Seconds of measurement (per ramp step).") var duration = 10
    @Option(help: "Seconds of warm-up before measuring.") var warmup = 3
    @Option(help: "VP8 bitrate per publisher, bits/s.") var videoBitrate = 1_500_000
    @Option(help: "Frames between keyframes (30 frames/s).") var keyframeInterval = 60
    @Option(help: "Pace video at this multiple of its bitrate, as WebRTC's pacer does (0: each frame in one burst).") var pacing = 2.5
    @Option(help: "Unprotect and time one received packet in this many per transport.") var verifyEvery = 10
    @Option(help: "SRTP profile the peers offer: gcm or cm.") var profile = "gcm"
    @Flag(help: "Do not negotiate transport-wide-cc (no TWCC extension, no feedback).") var noTransportCC = false
    @Flag(help: "Start publishers one at a time until loss or p99 passes the limits; report the best step.") var ramp = false
    @Option(help: "Ramp limit: loss in percent.") var rampMaxLoss = 1.0
    @Option(help: "Ramp limit: latency p99 in milliseconds.") var rampMaxP99 = 10.0
    @Option(help: "Use this running server (base URL) instead of starting one.") var server: String?
    @Option(help: "The parley binary to start (default: the one beside parley-bench).") var parleyBinary: String?
    @Option(help: "PID of the --server, for its CPU time.") var serverPid: Int?
    @Option(help: "CPU the started server is pinned to.") var serverCpu = 0
    @Option(help: "CPU this load generator is pinned to (-1: not pinned).") var clientCpu = 1
    @Option(help: "Concurrent sign-ups and WebSocket setups.") var setupConcurrency = 16
    @Option(help: "The last N participants flood NACKs: every 5 ms, per stream received, one NACK naming the last 544 sequence numbers four times.")
    var nackStorm = 0

    func validate() throws {
        guard publishers >= 1, subscribers >= 0 else { throw ValidationError("need at least one publisher") }
        guard publishers + subscribers <= 1000 else {
            throw ValidationError("at most 1000 participants: CALL_MAX_PARTICIPANTS allows 2...1000")
        }
        guard publishers <= 64 else { throw ValidationError("at most 64 publishers (two m-sections each; an answer must fit a 64 KiB frame)") }
        guard nackStorm >= 0, nackStorm <= subscribers else { throw ValidationError("--nack-storm is 0...--subscribers") }
        guard ["gcm", "cm"].contains(profile) else { throw ValidationError("--profile is gcm or cm") }
        guard duration >= 2, warmup >= 0, verifyEvery >= 1, keyframeInterval >= 1, videoBitrate >= 10_000 else {
            throw ValidationError("--duration >= 2, --verify-every >= 1, --keyframe-interval >= 1, --video-bitrate >= 10000")
        }
    }

    func run() async throws {
        if clientCpu >= 0 { try Self.pin(pid: Int(getpid()), cpu: clientCpu) }
        let participants = publishers + subscribers
        let target: SFUBenchServer
        if let server {
            target = .existing(url: server, pid: serverPid)
        } else {
            target = try await SFUBenchServer.spawn(binary: parleyBinary, cpu: serverCpu, maxParticipants: max(2, participants))
        }
        print("bench sfu: \(publishers) publishers (Opus 50 pkt/s + VP8 \(videoBitrate / 1000) kbit/s 30 fps), "
            + "\(subscribers) subscribers, SRTP \(profile == "gcm" ? "AEAD_AES_128_GCM" : "AES_CM_128_HMAC_SHA1_80"), "
            + "transport-cc \(noTransportCC ? "off" : "on"), video paced at \(pacing)x bitrate, verify 1 in \(verifyEvery)")
        if nackStorm > 0 { print("nack storm: the last \(nackStorm) subscribers flood NACKs") }
        print("server: \(target.baseURL) pid \(target.pid.map(String.init) ?? "-") "
            + (server == nil ? "pinned to CPU \(serverCpu)" : "(external)") + "; load generator on CPU \(clientCpu); "
            + "machine \(ProcessInfo.processInfo.activeProcessorCount) cores; libsrtp \(SRTPLibrary.buildDescription)")
        var failed = true
        defer { target.stop(keepLog: failed) }
        do {
            try await measure(target)
            failed = false
        } catch {
            if let log = target.logPath {
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                print("server log (\(log)), last lines:\n\(text.split(separator: "\n").suffix(30).joined(separator: "\n"))")
            }
            throw error
        }
    }

    private func measure(_ target: SFUBenchServer) async throws {
        let base = target.baseURL
        let wsURL = base.replacingOccurrences(of: "http://", with: "ws://").replacingOccurrences(of: "https://", with: "wss://") + "/ws"
        let participants = publishers + subscribers
        let started = ContinuousClock.now

        // Users and one group conversation holding them all.
        let users = try await BenchChat.concurrently(count: participants, width: setupConcurrency) { index in
            try await BenchHTTP.signUp(base: base, index: index)
        }
        let conversation = try await BenchHTTP.createGroup(base: base, owner: users[0], others: users.dropFirst().map(\.id))

        // The UDP loop and the peers' certificate.
        let certificate = try DTLSCertificate.generate(commonName: "parley-bench")
        let profiles: [SRTPProfile] = profile == "gcm" ? [.aeadAes128Gcm] : [.aes128CmHmacSha1_80]
        let context = try DTLSContext(certificate: certificate, srtpProfiles: profiles)
        let loop = try SFUBenchLoop(settings: .init(videoBitrate: videoBitrate, keyframeInterval: keyframeInterval,
                                                    transportCC: !noTransportCC, verifyEvery: verifyEvery, pacing: pacing),
                                    context: context)
        loop.start()
        defer { loop.submit(.stop) }
        let peers = users.enumerated().map { index, user in
            SFUBenchSignalingPeer(index: index, user: user, loop: loop, fingerprint: certificate.fingerprint.sdpValue,
                                  floodsNacks: index >= participants - nackStorm)
        }
        defer { for peer in peers { peer.close() } }
        _ = try await BenchChat.concurrently(count: participants, width: setupConcurrency) { index in
            try await peers[index].connect(wsURL: wsURL)
            try await peers[index].join(conversation: conversation)
            return 0
        }
        print("setup: \(participants) users signed up, connected and in the call after \(Self.format(started.duration(to: .now)))")

        // Publishers are the first P participants; each publish makes offers to all the others.
        for index in 0..<publishers {
            try await peers[index].publish(publisher: index, transportCC: !noTransportCC)
        }
        let transports = publishers + subscribers + (publishers >= 2 ? publishers : 0)
        var snapshot = await loop.snapshot()
        let connectDeadline = ContinuousClock.now + .seconds(60)
        while snapshot.srtpReady + snapshot.dtlsFailures.count < transports, ContinuousClock.now < connectDeadline {
            try await Task.sleep(for: .milliseconds(200))
            snapshot = await loop.snapshot()
        }
        // Each publish renegotiates every other participant's subscribe connection; measure only
        // once the server has answered them all (no new subscribe answer for 3 s).
        var answers = peers.map(\.answers).reduce(0, +)
        var stableSince = ContinuousClock.now
        let settleDeadline = ContinuousClock.now + .seconds(300)
        while stableSince.duration(to: .now) < .seconds(3), ContinuousClock.now < settleDeadline {
            try await Task.sleep(for: .milliseconds(250))
            let now = peers.map(\.answers).reduce(0, +)
            if now != answers {
                answers = now
                stableSince = .now
            }
        }
        print("signaling settled: \(answers) subscribe answers after \(Self.format(started.duration(to: .now)))")
        let errors = peers.flatMap(\.errors)
        print("transports: \(snapshot.transports) of \(transports) opened, ICE \(snapshot.iceConnected), SRTP \(snapshot.srtpReady) "
            + "after \(Self.format(started.duration(to: .now)))" + (errors.isEmpty ? "" : "; signaling errors: \(errors.prefix(3))"))
        guard snapshot.srtpReady == transports else {
            throw BenchHTTP.BenchError(description: "not every transport connected; \(snapshot.dtlsFailures.count) DTLS failures: "
                + "\(Set(snapshot.dtlsFailures).prefix(3))")
        }

        print("")
        print(SFUBenchResult.header)
        let steps = ramp ? Array(1...publishers) : [publishers]
        var best: SFUBenchResult?
        var details: [String] = []
        for active in steps {
            loop.submit(.activatePublishers(active))
            // Every participant receives the audio and video of every active publisher but itself.
            let expectedStreams = 2 * active * (participants - 1)
            let deadline = ContinuousClock.now + .seconds(20)
            var current = await loop.snapshot()
            while current.streams < expectedStreams, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
                current = await loop.snapshot()
            }
            if current.streams < expectedStreams {
                print("warning: \(current.streams) of \(expectedStreams) streams arrive after 20 s")
            }
            try await Task.sleep(for: .seconds(warmup))
            let result = try await window(loop: loop, target: target, active: active)
            print(result.row)
            details.append("step \(active): \n" + result.details)
            let passes = result.lossPercent <= rampMaxLoss && Double(result.kernelLatency.p99) <= rampMaxP99 * 1000
            if ramp {
                guard passes else { break }
                best = result
            }
        }
        print("")
        for line in details { print(line) }
        if ramp {
            if let best {
                print("ramp: best step \(best.publishers) publishers: \(Int(best.forwardedPPS ?? best.receivedPPS)) forwarded pkt/s "
                    + "within loss <= \(rampMaxLoss) % and p99 <= \(rampMaxP99) ms")
            } else {
                print("ramp: even one publisher broke the limits")
            }
        }
        let final = await loop.snapshot()
        print("publishers: \(final.keyframesSent) keyframes sent, \(final.keyframeRequests) PLI/FIR received; "
            + "late schedules \(final.lateSchedules); answers \(peers.map(\.answers).reduce(0, +))")
        if nackStorm > 0 { print("nack storm: \(final.nacksSent) NACKs sent") }
    }

    /// One measurement window, its edges on the server's once-a-second counter updates.
    private func window(loop: SFUBenchLoop, target: SFUBenchServer, active: Int) async throws -> SFUBenchResult {
        let first = try await target.readingAtTick()
        loop.submit(.markWindow)
        let before = await loop.snapshot()
        let clientStart = ContinuousClock.now
        let clientCPUStart = Self.ownCPUSeconds()
        let dropsBefore = SFUBenchUDPDrops.byPort()
        try await Task.sleep(for: .seconds(duration))
        let last = try await target.readingAtTick()
        let after = await loop.snapshot()
        let clientSeconds = Self.seconds(clientStart.duration(to: .now))
        let clientCPU = Self.ownCPUSeconds() - clientCPUStart
        let dropsAfter = SFUBenchUDPDrops.byPort()

        let serverSeconds = Self.seconds(first.at.duration(to: last.at))
        let forwarded = last.forwarded - first.forwarded
        var deltas: [String: Double] = [:]
        for (key, value) in last.counters { deltas[key] = value - (first.counters[key] ?? 0) }
        var cpuPercent: Double?, perPacket: Double?
        if let a = first.cpu, let b = last.cpu {
            cpuPercent = 100 * (b - a) / serverSeconds
            if forwarded > 0 { perPacket = (b - a) * 1e6 / forwarded }
        }
        var serverDrops: Int?
        var clientDrops = 0
        for (port, count) in dropsAfter {
            let delta = count - (dropsBefore[port] ?? 0)
            if port == target.mediaPort { serverDrops = delta } else { clientDrops += delta }
        }
        return SFUBenchResult(
            publishers: active, subscribers: publishers + subscribers - active, seconds: serverSeconds,
            offeredPPS: Double(after.packetsSent - before.packetsSent) / clientSeconds,
            forwardedPPS: forwarded / serverSeconds,
            receivedPPS: Double(after.rtpReceived - before.rtpReceived) / clientSeconds,
            serverCPUPercent: cpuPercent, cpuMicrosPerForwarded: perPacket, clientCPUPercent: 100 * clientCPU / clientSeconds,
            kernelLatency: .init(after.kernelLatency), readLatency: .init(after.readLatency),
            expected: after.windowExpected, received: after.windowReceived, verifyFailures: after.verifyFailures,
            serverDeltas: deltas, serverSocketDrops: serverDrops, clientSocketDrops: clientDrops,
            serverRunQueueWaitPercent: Self.both(first.runQueueWait, last.runQueueWait).map { 100 * ($1 - $0) / serverSeconds })
    }

    // MARK: helpers

    /// Pins every thread of `pid` (and so every thread they start) to `cpu` with taskset.
    static func pin(pid: Int, cpu: Int) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/taskset")
        process.arguments = ["-a", "-p", "-c", "\(cpu)", "\(pid)"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchHTTP.BenchError(description: "taskset -a -p -c \(cpu) \(pid) failed") }
    }

    static func both<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
        guard let a, let b else { return nil }
        return (a, b)
    }

    static func ownCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func format(_ d: Duration) -> String { String(format: "%.1f s", seconds(d)) }
}
