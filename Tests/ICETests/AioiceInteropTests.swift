import Foundation
import Testing
@testable import ICE

/// Interop with a full ICE agent nobody here wrote: aioice (PyPI), controlling, against
/// Parley's ICE-lite agent and media socket on 127.0.0.1. A missing python3 or aioice fails
/// the test: nothing is skipped.
@Suite(.serialized) struct AioiceInteropTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("aioice_peer.py")

    struct PeerRun {
        var status: Int32
        var lines: [String]
        func value(_ key: String) -> String? {
            lines.first { $0.hasPrefix(key + " ") }.map { String($0.dropFirst(key.count + 1)) }
        }
    }

    /// Runs the aioice peer to completion (killed after 60 s).
    func runPeer(port: UInt16, credentials: ICECredentials, send: String, connectTimeout: Int = 20) async throws -> PeerRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script.path, "--host", "127.0.0.1", "--port", "\(port)",
                             "--ufrag", credentials.ufrag, "--pwd", credentials.password, "--send", send,
                             "--timeout", "\(connectTimeout)"]
        let out = Pipe()
        process.standardOutput = out
        let err = Pipe()
        process.standardError = err
        let exited: Void = try await withCheckedThrowingContinuation { c in
            process.terminationHandler = { _ in c.resume() }
            do { try process.run() } catch { c.resume(throwing: error) }
        }
        _ = exited
        _ = Task.detached { try? await Task.sleep(for: .seconds(60)); if process.isRunning { process.terminate() } }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        if process.terminationStatus != 0 { print("aioice peer stderr:\n\(errors)") }
        return PeerRun(status: process.terminationStatus, lines: text.split(separator: "\n").map(String.init))
    }

    func startServer() throws -> MediaIOThread {
        var c = MediaTransportConfiguration()
        c.bindAddress = "127.0.0.1"
        c.port = 0
        let io = try MediaIOThread(configuration: c)
        io.start()
        return io
    }

    @Test func aioiceConnectsAndParleyNominatesExactlyItsFiveTuple() async throws {
        let io = try startServer()
        defer { io.stop() }
        let credentials = ICECredentials.random()
        let handler = RecordingHandler(echo: true)
        let id = try #require(await io.run { $0.addTransport(local: credentials, handler: handler) })

        let payload = "80e0000100000001" + String(repeating: "ab", count: 100)
        let run = try await runPeer(port: io.localAddress.port, credentials: credentials, send: payload)
        #expect(run.status == 0, "aioice output: \(run.lines)")
        #expect(run.lines.contains("CONNECTED"))

        let local = try #require(run.value("LOCAL")).split(separator: " ")
        let aioiceAddress = try #require(TransportAddress(ip: String(local[0]), port: UInt16(local[1])!))
        let expected = FiveTuple(remote: aioiceAddress, local: io.localAddress, transport: .udp)
        let s = handler.snapshot
        #expect(s.selections == [ICESelectionChange(previous: nil, current: expected)])
        let selected = await io.run { $0.selectedPath(of: id) }
        #expect(selected == expected)

        // The datagram aioice sent after connect reached the transport handler, from that 5-tuple,
        // and the echo sent on the selected path reached aioice.
        #expect(s.received.map(\.kind) == [.rtp])
        #expect(s.received.first?.path == expected)
        #expect(s.received.first?.bytes == hex(payload))
        #expect(run.value("ECHO") == payload)
    }

    @Test func aioiceWithTheWrongPasswordFailsAndChangesNothing() async throws {
        let io = try startServer()
        defer { io.stop() }
        let credentials = ICECredentials.random()
        let handler = RecordingHandler(echo: true)
        let id = try #require(await io.run { $0.addTransport(local: credentials, handler: handler) })

        let wrong = ICECredentials(ufrag: credentials.ufrag, password: ICECredentials.random().password)
        let run = try await runPeer(port: io.localAddress.port, credentials: wrong, send: "80e00001", connectTimeout: 5)
        #expect(run.status != 0)
        #expect(!run.lines.contains("CONNECTED"))
        #expect(handler.snapshot.selections.isEmpty)
        #expect(handler.snapshot.received.isEmpty)
        let (selected, paths, counters) = await io.run { r in (r.selectedPath(of: id), r.agent.validatedPaths(of: id), r.counters) }
        #expect(selected == nil)
        #expect(paths.isEmpty)
        #expect(counters.stunErrors >= 1)
        #expect(counters.stunSuccess == 0)
    }
}
