import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import ICE

/// The real socket path on loopback: UDP (IPv4, IPv6, dual-stack) and passive ICE-TCP.
@Suite struct MediaIOThreadTests {
    func startServer(bind: String, tcp: Bool = false, consentTimeout: Duration = .seconds(30),
                     tcpAuthTimeout: Duration = .seconds(10)) throws -> MediaIOThread {
        var c = MediaTransportConfiguration()
        c.bindAddress = bind
        c.port = 0
        c.iceTCPEnabled = tcp
        c.consentTimeout = consentTimeout
        c.tcpAuthTimeout = tcpAuthTimeout
        let io = try MediaIOThread(configuration: c)
        io.start()
        return io
    }

    /// Receives one datagram on `socket` within 5 s.
    func receiveOne(_ socket: MediaSocket) async -> (bytes: [UInt8], from: TransportAddress)? {
        var got: (bytes: [UInt8], from: TransportAddress)?
        _ = await eventually {
            socket.receiveBatch { bytes, from in if got == nil { got = (Array(bytes), from) } }
            return got != nil
        }
        return got
    }

    func udpRoundTrip(server bind: String, client clientBind: String, target: String) async throws {
        let io = try startServer(bind: bind)
        defer { io.stop() }
        let credentials = ICECredentials.random()
        let handler = RecordingHandler(echo: true)
        let id = await io.run { $0.addTransport(local: credentials, handler: handler) }
        #expect(id != nil)

        let client = try MediaSocket(bindAddress: clientBind, port: 0)
        let server = TransportAddress(ip: target, port: io.localAddress.port)!
        let request = bindingRequest(ufrag: credentials.ufrag, password: credentials.password)
        request.withUnsafeBytes { _ = client.sendNow($0, to: server) }
        let response = try #require(await receiveOne(client))
        let m = try STUNMessage(parsing: response.bytes)
        #expect(m.type == .bindingSuccess)
        #expect(m.attribute(.xorMappedAddress) == .xorMappedAddress(client.localAddress))

        let rtp: [UInt8] = [0x80, 0x60, 0x00, 0x01, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef] + Array(repeating: 7, count: 1188)
        rtp.withUnsafeBytes { _ = client.sendNow($0, to: server) }
        let echo = try #require(await receiveOne(client))
        #expect(echo.bytes == rtp)
        let snapshot = handler.snapshot
        #expect(snapshot.selections.count == 1)
        #expect(snapshot.selections.first?.current.remote == client.localAddress)
        #expect(snapshot.received.map(\.kind) == [.rtp])
    }

    @Test func udpIPv4CheckAndEcho() async throws {
        try await udpRoundTrip(server: "127.0.0.1", client: "127.0.0.1", target: "127.0.0.1")
    }

    @Test func udpIPv6CheckAndEcho() async throws {
        try await udpRoundTrip(server: "::1", client: "::1", target: "::1")
    }

    @Test func dualStackSocketServesIPv4Peers() async throws {
        try await udpRoundTrip(server: "::", client: "127.0.0.1", target: "127.0.0.1")
    }

    @Test func strangerDatagramsGetNoAnswer() async throws {
        let io = try startServer(bind: "127.0.0.1")
        defer { io.stop() }
        let client = try MediaSocket(bindAddress: "127.0.0.1", port: 0)
        let server = TransportAddress(ip: "127.0.0.1", port: io.localAddress.port)!
        for packet in [bindingRequest(ufrag: "none", password: "whatever-whatever-whatever"), [0x16, 0xfe, 0xfd, 0, 0], [0x80, 0x60, 0, 1]] {
            packet.withUnsafeBytes { _ = client.sendNow($0, to: server) }
        }
        let counters = await io.run { router -> MediaRouterCounters in router.counters }
        try? await Task.sleep(for: .milliseconds(200))
        var got = 0
        client.receiveBatch { _, _ in got += 1 }
        #expect(got == 0)
        let after = await io.run { $0.counters }
        #expect(after.stunDropped + after.mediaFromUnknownPath >= counters.stunDropped + counters.mediaFromUnknownPath)
        #expect(after.stunSuccess == 0)
    }

    @Test func iceTcpPassiveCandidateCarriesFramedChecksAndMedia() async throws {
        let io = try startServer(bind: "127.0.0.1", tcp: true)
        defer { io.stop() }
        let credentials = ICECredentials.random()
        let handler = RecordingHandler(echo: true)
        _ = await io.run { $0.addTransport(local: credentials, handler: handler) }

        let tcp = try TCPClient(port: io.localAddress.port)
        try tcp.sendFrame(bindingRequest(ufrag: credentials.ufrag, password: credentials.password))
        let response = try STUNMessage(parsing: try tcp.readFrame())
        #expect(response.type == .bindingSuccess)
        #expect(response.attribute(.xorMappedAddress) == .xorMappedAddress(tcp.localAddress))
        let rtp: [UInt8] = [0x80, 0x60, 0x00, 0x02] + Array(repeating: 1, count: 1196)
        try tcp.sendFrame(rtp)
        #expect(try tcp.readFrame() == rtp)
        let s = handler.snapshot
        #expect(s.selections.first?.current.transport == .tcp)
        #expect(s.selections.first?.current.remote == tcp.localAddress)
    }

    @Test func lapsedConsentClosesTheTransportAndReportsIt() async throws {
        // Long enough that a loaded CI machine still answers the first check before consent lapses.
        let io = try startServer(bind: "127.0.0.1", consentTimeout: .seconds(4))
        defer { io.stop() }
        let credentials = ICECredentials.random()
        let handler = RecordingHandler()
        let id = try #require(await io.run { $0.addTransport(local: credentials, handler: handler) })
        let client = try MediaSocket(bindAddress: "127.0.0.1", port: 0)
        bindingRequest(ufrag: credentials.ufrag, password: credentials.password).withUnsafeBytes {
            _ = client.sendNow($0, to: TransportAddress(ip: "127.0.0.1", port: io.localAddress.port)!)
        }
        #expect(await receiveOne(client) != nil)
        #expect(await eventually(timeout: .seconds(20)) { handler.snapshot.closed == [.consentExpired] })
        #expect(await io.run { $0.agent.contains(id) } == false)
    }

    @Test func unauthenticatedTcpConnectionIsClosed() async throws {
        let io = try startServer(bind: "127.0.0.1", tcp: true, tcpAuthTimeout: .milliseconds(500))
        defer { io.stop() }
        let tcp = try TCPClient(port: io.localAddress.port)
        // Nothing valid is ever sent: the server closes the connection (read sees EOF, not a timeout).
        var byte: UInt8 = 0
        let n = read(tcp.fd, &byte, 1)
        #expect(n == 0)
    }

    @Test func iceTcpIsOffUnlessEnabled() throws {
        let io = try startServer(bind: "127.0.0.1", tcp: false)
        defer { io.stop() }
        #expect(throws: (any Error).self) { _ = try TCPClient(port: io.localAddress.port) }
    }
}

/// A blocking TCP client speaking RFC 4571 framing.
final class TCPClient {
    let fd: Int32
    let localAddress: TransportAddress

    struct Failure: Error { let what: String; let errno: Int32 }

    init(port: UInt16) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var storage = sockaddr_storage()
        let length = TransportAddress(ip: "127.0.0.1", port: port)!.write(to: &storage, asIPv6: false)
        let rc = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) } }
        guard rc == 0 else {
            let e = errno
            close(fd)
            throw Failure(what: "connect", errno: e)
        }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var local = sockaddr_storage()
        var localLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &localLength) } }
        self.fd = fd
        self.localAddress = withUnsafePointer(to: &local) { TransportAddress(sockaddr: UnsafeRawPointer($0))! }
    }

    deinit { close(fd) }

    func sendFrame(_ bytes: [UInt8]) throws {
        let frame = [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes
        let n = frame.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard n == frame.count else { throw Failure(what: "write", errno: errno) }
    }

    func readExactly(_ count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, count - got) }
            guard n > 0 else { throw Failure(what: "read", errno: errno) }
            got += n
        }
        return out
    }

    func readFrame() throws -> [UInt8] {
        let h = try readExactly(2)
        return try readExactly(Int(h[0]) << 8 | Int(h[1]))
    }
}
