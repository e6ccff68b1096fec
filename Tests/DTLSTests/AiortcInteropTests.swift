@testable import DTLS
import Foundation
import Testing

/// DTLS-SRTP against another implementation: aiortc's RTCDtlsTransport (pyOpenSSL) with
/// pylibsrtp, in `aiortc_dtls_peer.py`, over UDP on 127.0.0.1. Parley's session is the DTLS
/// server, as in calls. A missing Python package fails these tests; it does not skip them.
@Suite("interop with aiortc", .serialized)
struct AiortcInteropTests {
    static let pythonPacket = rtpPacket(ssrc: 0x1122_3344, sequence: 1, payloadLength: 1000, multiplier: 7, offset: 3)
    static let swiftPacket = rtpPacket(ssrc: 0x5566_7788, sequence: 7, payloadLength: 1100, multiplier: 13, offset: 5)

    @Test("handshake with aiortc, then SRTP and SRTCP both ways with pylibsrtp", arguments: SRTPProfile.allCases)
    func handshakeAndSRTPBothWays(profile: SRTPProfile) throws {
        let result = try runAgainstAiortc(profiles: [profile], wrongFingerprint: false)
        #expect(result.exitStatus == 0, "python said: \(result.lines)")
        #expect(result.events.first?.keyingMaterial?.profile == profile)
        #expect(result.lines.contains { $0.contains("\"profile\": \"\(profile.openSSLName)\"") })
        #expect(result.receivedRTP, "python's SRTP packet was unprotected in Swift")
        #expect(result.receivedRTCP, "python's SRTCP packet was unprotected in Swift")
        #expect(result.lines.contains { $0.contains("\"received\": \"rtp+rtcp\"") }, "python unprotected ours: \(result.lines)")
        // aiortc closes with close_notify at the end.
        #expect(result.events.last == .closed)
    }

    @Test("aiortc offers both profiles and gets AEAD_AES_128_GCM from Parley")
    func aiortcGetsGcm() throws {
        let result = try runAgainstAiortc(profiles: SRTPProfile.preferred, wrongFingerprint: false)
        #expect(result.exitStatus == 0, "python said: \(result.lines)")
        #expect(result.events.first?.keyingMaterial?.profile == .aeadAes128Gcm)
    }

    @Test("an aiortc peer whose certificate does not match its SDP fingerprint is refused")
    func wrongFingerprintIsRefused() throws {
        let result = try runAgainstAiortc(profiles: SRTPProfile.preferred, wrongFingerprint: true)
        #expect(result.exitStatus == 0, "python should have seen its handshake fail: \(result.lines)")
        guard case .failed(.fingerprintMismatch) = result.events.first else {
            Issue.record("expected a fingerprint mismatch, got \(result.events)")
            return
        }
        #expect(result.lines.contains { $0.contains("\"state\": \"failed\"") })
        #expect(!result.receivedRTP)
    }

    // MARK: the Swift side of the conversation

    struct Outcome {
        var exitStatus: Int32 = -1
        var lines: [String] = []
        var events: [DTLSEvent] = []
        var receivedRTP = false
        var receivedRTCP = false
    }

    func runAgainstAiortc(profiles: [SRTPProfile], wrongFingerprint: Bool) throws -> Outcome {
        let socket = try LoopbackUDPSocket()
        let context = try DTLSContext(certificate: TestCertificates.server, srtpProfiles: profiles)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("aiortc_dtls_peer.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let python = ProcessInfo.processInfo.environment["PARLEY_PYTHON"] ?? "python3"
        process.arguments = [python, script.path, "--swift-port", "\(socket.port)",
                             "--swift-fingerprint", context.certificate.fingerprint.sdpValue, "--timeout", "15"]
            + (wrongFingerprint ? ["--expect-failure"] : [])
        let stdout = LineReader()
        let stderr = LineReader()
        process.standardOutput = stdout.pipe
        process.standardError = stderr.pipe
        try process.run()
        stdout.start()
        stderr.start()
        defer {
            if process.isRunning { process.terminate() }
        }

        var outcome = Outcome()
        var session: DTLSSession?
        var srtp: SRTPSession?
        var pythonPort: UInt16 = 0
        var sentOurs = false
        let buffer = PacketBuffer(capacity: 2048)
        let deadline = ContinuousClock.now + .seconds(40)

        func send(_ datagrams: [[UInt8]]) {
            for datagram in datagrams { socket.send(datagram, toPort: pythonPort) }
        }
        func handle(_ output: DTLSOutput) throws {
            send(output.datagrams)
            guard let event = output.event else { return }
            outcome.events.append(event)
            if case .connected(let material) = event { srtp = try SRTPSession(keyingMaterial: material) }
        }

        while ContinuousClock.now < deadline {
            for line in stdout.takeLines() {
                outcome.lines.append(line)
                guard session == nil, let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let port = object["port"] as? Int, let texts = object["fingerprints"] as? [String]
                else { continue }
                pythonPort = UInt16(port)
                let fingerprints = try texts.map { try DTLSFingerprint(parsing: $0) }
                session = try DTLSSession(context: context, role: .server,
                                          remoteFingerprints: wrongFingerprint ? [TestCertificates.stranger] : fingerprints)
            }
            if !process.isRunning, stdout.isFinished { break }
            guard let session else {
                Thread.sleep(forTimeInterval: 0.02)
                continue
            }
            if let count = socket.receive(into: buffer.storage, timeoutMilliseconds: 50), count > 0 {
                buffer.length = count
                let first = buffer.storage[0]
                if DTLSSession.isDTLS(firstByte: first) {
                    try handle(session.receive(datagram: UnsafeRawBufferPointer(rebasing: buffer.storage[0..<count]), now: .now))
                } else if (128...191).contains(first), let srtp {
                    if (192...223).contains(buffer.storage[1]) {
                        try srtp.unprotectRTCP(buffer.storage, length: &buffer.length)
                        outcome.receivedRTCP = buffer.bytes == rtcpSenderReport(ssrc: 0x1122_3344)
                    } else {
                        try srtp.unprotectRTP(buffer.storage, length: &buffer.length)
                        outcome.receivedRTP = buffer.bytes == Self.pythonPacket
                    }
                }
            }
            if let timer = session.timerDeadline, timer <= .now {
                try handle(session.handleTimeout(now: .now))
            }
            if let srtp, outcome.receivedRTP, outcome.receivedRTCP, !sentOurs {
                sentOurs = true
                buffer.load(Self.swiftPacket)
                try srtp.protectRTP(buffer.storage, length: &buffer.length)
                socket.send(buffer.bytes, toPort: pythonPort)
                buffer.load(rtcpSenderReport(ssrc: 0x5566_7788))
                try srtp.protectRTCP(buffer.storage, length: &buffer.length)
                socket.send(buffer.bytes, toPort: pythonPort)
            }
        }
        if process.isRunning {
            process.terminate()
            Issue.record("the aiortc peer did not finish in time; stderr: \(stderr.takeLines().suffix(20))")
        }
        process.waitUntilExit()
        outcome.exitStatus = process.terminationStatus
        outcome.lines += stdout.takeLines()
        if outcome.exitStatus != 0 {
            Issue.record("aiortc peer exited with \(outcome.exitStatus); stdout: \(outcome.lines); stderr: \(stderr.takeLines().suffix(20))")
        }
        return outcome
    }
}

/// Collects a child process's output lines on a background thread.
final class LineReader: @unchecked Sendable {
    let pipe = Pipe()
    private let lock = NSLock()
    private var pending = Data()
    private var lines: [String] = []
    private var finished = false

    func start() {
        let handle = pipe.fileHandleForReading
        Thread.detachNewThread { [self] in
            while true {
                let data = handle.availableData
                lock.lock()
                if data.isEmpty {
                    if !pending.isEmpty { lines.append(String(decoding: pending, as: UTF8.self)) }
                    pending = Data()
                    finished = true
                    lock.unlock()
                    return
                }
                pending.append(data)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    lines.append(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                    pending = Data(pending[pending.index(after: newline)...])
                }
                lock.unlock()
            }
        }
    }

    func takeLines() -> [String] {
        lock.lock()
        defer { lock.unlock() }
        defer { lines = [] }
        return lines
    }

    var isFinished: Bool {
        lock.lock()
        defer { lock.unlock() }
        return finished && lines.isEmpty
    }
}

/// A UDP socket on 127.0.0.1 with an ephemeral port, for the interop tests only.
final class LoopbackUDPSocket {
    let fd: Int32
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        self.port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8], toPort port: UInt16) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        _ = bytes.withUnsafeBytes { data in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, data.baseAddress, data.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    /// Waits up to `timeoutMilliseconds` for one datagram; nil when none came.
    func receive(into buffer: UnsafeMutableRawBufferPointer, timeoutMilliseconds: Int32) -> Int? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, timeoutMilliseconds) == 1 else { return nil }
        let count = recv(fd, buffer.baseAddress, buffer.count, 0)
        return count >= 0 ? count : nil
    }
}
