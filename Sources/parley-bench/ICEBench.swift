import ArgumentParser
import Foundation
import ICE
#if canImport(Glibc)
import Glibc
#endif

/// `parley-bench stun`: the cost of answering one ICE connectivity check. Parses a typical
/// Binding request (USERNAME, PRIORITY, ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY,
/// FINGERPRINT), verifies its FINGERPRINT and MESSAGE-INTEGRITY; then the same through the
/// ICE-lite agent, which also writes the signed response.
struct BenchSTUN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stun",
        abstract: "Measure STUN parse + integrity + fingerprint of an ICE binding request.")

    @Option(help: "Iterations per measurement.")
    var iterations = 1_000_000

    func validate() throws {
        guard iterations >= 1000 else { throw ValidationError("--iterations must be at least 1000") }
    }

    func run() throws {
        let credentials = ICECredentials(ufrag: "srvUfrag", password: "0123456789abcdefghijklmn")
        let request = try STUNMessage(type: .bindingRequest, attributes: [
            .username("srvUfrag:peerUfra"), .priority(0x6e00_01ff),
            .iceControlling(tieBreaker: 0x1122_3344_5566_7788), .useCandidate,
        ]).serialized(integrityKey: credentials.key, fingerprint: true)
        let key = STUNIntegrityKey(password: credentials.password)
        var scratch: [UInt8] = []
        scratch.reserveCapacity(512)
        print("request: \(request.count) bytes; \(iterations) iterations per measurement, one thread")
        print("")
        print("| operation | ns/op | ops/s |")
        print("| --- | --- | --- |")

        // 1. Parse the header and attribute bounds only.
        var sink = 0
        let parse = Self.measure(iterations) {
            request.withUnsafeBytes { raw in
                if let v = try? STUNMessageView(parsing: raw) { sink &+= v.integrityOffset ?? 0 }
            }
        }
        Self.report("parse (STUNMessageView)", parse)

        // 2. Parse + FINGERPRINT (CRC-32) + MESSAGE-INTEGRITY (HMAC-SHA1).
        let verify = Self.measure(iterations) {
            request.withUnsafeBytes { raw in
                if let v = try? STUNMessageView(parsing: raw), v.hasValidFingerprint, v.hasValidIntegrity(key: key, scratch: &scratch) {
                    sink &+= 1
                }
            }
        }
        Self.report("parse + fingerprint + integrity", verify)

        // 3. The whole answer: agent.handleSTUN (verify, record, write the signed response).
        var agent = ICELiteAgent()
        let now = ContinuousClock.now
        _ = agent.addTransport(local: credentials, now: now)
        let path = FiveTuple(remote: TransportAddress(ip: "192.0.2.10", port: 50000)!,
                             local: TransportAddress(ip: "198.51.100.1", port: 7882)!)
        var response: [UInt8] = []
        response.reserveCapacity(256)
        let answer = Self.measure(iterations) {
            request.withUnsafeBytes { raw in
                if case .sendSuccess = agent.handleSTUN(raw, from: path, now: now, response: &response) { sink &+= 1 }
            }
        }
        Self.report("ICELiteAgent.handleSTUN (verify + signed response)", answer)

        // 4. The owning decoder, for comparison (allocates the attribute array).
        let owned = Self.measure(iterations / 4) {
            if let m = try? STUNMessage(parsing: request) { sink &+= m.attributes.count }
        }
        Self.report("STUNMessage(parsing:) (owned, allocating)", owned)
        if sink == 42 { print("") }  // keep the work observable
    }

    static func measure(_ n: Int, _ body: () -> Void) -> Double {
        for _ in 0..<min(n / 10, 10_000) { body() }  // warm up
        let start = ContinuousClock.now
        for _ in 0..<n { body() }
        let elapsed = ContinuousClock.now - start
        return (Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9) / Double(n)
    }

    static func report(_ name: String, _ ns: Double) {
        print("| \(name) | \(String(format: "%.0f", ns)) | \(String(format: "%.2f M", 1e3 / ns)) |")
    }
}

/// `parley-bench udp`: loopback throughput of 1200-byte datagrams, one sending thread and one
/// receiving thread, through Parley's media path (MediaSocket sendmmsg batches -> MediaSocket
/// recvmmsg batches -> MediaTransportRouter demux and 5-tuple lookup -> transport handler)
/// against plain blocking sendto/recvfrom.
struct BenchUDP: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "udp",
        abstract: "Measure loopback UDP send/receive of 1200-byte datagrams: media path vs plain.")

    @Option(help: "Datagrams per measurement.")
    var count = 500_000

    @Option(help: "Datagram size in bytes.")
    var size = 1200

    @Option(help: "Datagrams per sendmmsg/recvmmsg batch (1-64).")
    var batch = 32

    func validate() throws {
        guard count >= 1000 else { throw ValidationError("--count must be at least 1000") }
        guard (12...2048).contains(size) else { throw ValidationError("--size must be 12...2048") }
        guard (1...64).contains(batch) else { throw ValidationError("--batch must be 1...64") }
    }

    struct Result {
        var name: String
        var sent: Int
        var received: Int
        var sendSeconds: Double
        var receiveSeconds: Double
    }

    func run() throws {
        print("datagrams: \(count) x \(size) bytes on 127.0.0.1, one sender thread, one receiver thread, batch \(batch)")
        print("")
        print("| path | sent/s | received/s | received | loss |")
        print("| --- | --- | --- | --- | --- |")
        for result in [try plain(), try mediaPath()] {
            let loss = 100.0 * Double(result.sent - result.received) / Double(result.sent)
            print("| \(result.name) | \(Self.k(Double(result.sent) / result.sendSeconds)) | \(Self.k(Double(result.received) / result.receiveSeconds)) | \(result.received) | \(String(format: "%.1f", loss)) % |")
        }
        let ns = try routerOnly()
        print("")
        print("router alone (RFC 7983 demux + 5-tuple lookup + handler call, no socket): \(String(format: "%.1f", ns)) ns/datagram")
    }

    /// The CPU cost the router adds per media datagram, without syscalls.
    func routerOnly() throws -> Double {
        let router = MediaTransportRouter(sink: NullSink())
        let handler = CountingHandler()
        let credentials = ICECredentials.random()
        let now = ContinuousClock.now
        _ = router.addTransport(local: credentials, handler: handler, now: now)
        let path = FiveTuple(remote: TransportAddress(ip: "192.0.2.10", port: 50000)!,
                             local: TransportAddress(ip: "198.51.100.1", port: 7882)!)
        let check = try STUNMessage(type: .bindingRequest, attributes: [.username("\(credentials.ufrag):peer"), .useCandidate])
            .serialized(integrityKey: credentials.key, fingerprint: true)
        check.withUnsafeBytes { router.receive($0, from: path, now: now) }
        let packet = datagram
        let n = count * 4
        let start = ContinuousClock.now
        packet.withUnsafeBytes { p in
            for _ in 0..<n { router.receive(p, from: path, now: now) }
        }
        let elapsed = Self.seconds(ContinuousClock.now - start)
        precondition(handler.delivered == n)
        return elapsed * 1e9 / Double(n)
    }

    static func k(_ perSecond: Double) -> String { String(format: "%.0f k", perSecond / 1000) }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// An RTP-looking datagram (first byte 0x80: RFC 7983 RTP range).
    var datagram: [UInt8] {
        var d = [UInt8](repeating: 0x5A, count: size)
        d[0] = 0x80
        d[1] = 0x60
        return d
    }

    // MARK: plain sendto / recvfrom

    func plain() throws -> Result {
        let rx = try Self.udpSocket()
        let tx = try Self.udpSocket()
        defer { close(rx.fd); close(tx.fd) }
        let receiver = Receiver(expected: count)
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 2048)
            var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
            setsockopt(rx.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            receiver.run {
                buffer.withUnsafeMutableBytes { recv(rx.fd, $0.baseAddress, $0.count, 0) } > 0 ? 1 : -1
            }
        }
        thread.start()
        var destination = sockaddr_storage()
        let length = rx.address.write(to: &destination, asIPv6: false)
        let packet = datagram
        let start = ContinuousClock.now
        for _ in 0..<count {
            _ = packet.withUnsafeBytes { p in
                withUnsafePointer(to: &destination) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(tx.fd, p.baseAddress, p.count, 0, $0, length) }
                }
            }
        }
        let sendSeconds = Self.seconds(ContinuousClock.now - start)
        receiver.done.wait()
        return Result(name: "plain sendto / recvfrom", sent: count, received: receiver.received,
                      sendSeconds: sendSeconds, receiveSeconds: receiver.seconds)
    }

    // MARK: Parley's media path

    /// Counts what the router delivers.
    final class CountingHandler: MediaTransportHandler {
        var delivered = 0
        func mediaTransport(_ id: ICETransportID, received packet: UnsafeRawBufferPointer, kind: MediaPacketKind,
                            from path: FiveTuple, router: MediaTransportRouter) { delivered += 1 }
        func mediaTransport(_ id: ICETransportID, selected path: FiveTuple, previous: FiveTuple?, router: MediaTransportRouter) {}
        func mediaTransportClosed(_ id: ICETransportID, reason: ICECloseReason) {}
    }

    final class NullSink: DatagramSink {
        func send(_ packet: UnsafeRawBufferPointer, to path: FiveTuple) {}
    }

    func mediaPath() throws -> Result {
        let rxSocket = try MediaSocket(bindAddress: "127.0.0.1", port: 0, batchSize: batch)
        let txSocket = try MediaSocket(bindAddress: "127.0.0.1", port: 0, batchSize: batch)
        // A router with one transport whose path (the sender's 5-tuple) passed a valid check.
        let router = MediaTransportRouter(sink: NullSink())
        let handler = CountingHandler()
        let credentials = ICECredentials.random()
        let now = ContinuousClock.now
        _ = router.addTransport(local: credentials, handler: handler, now: now)
        let path = FiveTuple(remote: txSocket.localAddress, local: rxSocket.localAddress)
        let check = try STUNMessage(type: .bindingRequest, attributes: [.username("\(credentials.ufrag):peer"), .useCandidate])
            .serialized(integrityKey: credentials.key, fingerprint: true)
        check.withUnsafeBytes { router.receive($0, from: path, now: now) }
        let boxed = UncheckedBox((rxSocket, router))

        let receiver = Receiver(expected: count)
        let thread = Thread {
            let (socket, router) = boxed.value
            var fds = pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0)
            let local = socket.localAddress
            receiver.run {
                var n = socket.receiveBatch { packet, from in
                    router.receive(packet, from: FiveTuple(remote: from, local: local), now: now)
                }
                if n == 0 { n = poll(&fds, 1, 200) > 0 ? 0 : -1 }
                return n
            }
        }
        thread.start()
        let packet = datagram
        let destination = rxSocket.localAddress
        let start = ContinuousClock.now
        packet.withUnsafeBytes { p in
            for _ in 0..<count { txSocket.enqueue(p, to: destination) }
            txSocket.flush()
        }
        let sendSeconds = Self.seconds(ContinuousClock.now - start)
        receiver.done.wait()
        precondition(handler.delivered == receiver.received, "router delivered \(handler.delivered) of \(receiver.received)")
        return Result(name: "MediaSocket sendmmsg / recvmmsg + router", sent: count, received: receiver.received,
                      sendSeconds: sendSeconds, receiveSeconds: receiver.seconds)
    }

    // MARK: helpers

    /// Receives until `expected` arrived or the socket was idle for 200 ms; times first to last.
    final class Receiver: @unchecked Sendable {
        let expected: Int
        var received = 0
        var seconds = 0.0
        let done = DispatchSemaphore(value: 0)
        init(expected: Int) { self.expected = expected }

        /// `step` returns datagrams received (0 = try again), or -1 when idle for too long.
        func run(_ step: () -> Int) {
            var first: ContinuousClock.Instant?
            var last = ContinuousClock.now
            while received < expected {
                let n = step()
                if n < 0 { break }
                if n > 0 {
                    if first == nil { first = .now }
                    received += n
                    last = .now
                }
            }
            seconds = BenchUDP.seconds(last - (first ?? last))
            done.signal()
        }
    }

    struct UncheckedBox<T>: @unchecked Sendable {
        let value: T
        init(_ value: T) { self.value = value }
    }

    static func udpSocket() throws -> (fd: Int32, address: TransportAddress) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var size: Int32 = 4 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var storage = sockaddr_storage()
        let length = TransportAddress(ip: "127.0.0.1", port: 0)!.write(to: &storage, asIPv6: false)
        _ = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        var bound = sockaddr_storage()
        var boundLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &boundLength) } }
        guard let address = withUnsafePointer(to: &bound, { TransportAddress(sockaddr: UnsafeRawPointer($0)) }) else {
            throw ValidationError("could not bind a UDP socket on 127.0.0.1")
        }
        return (fd, address)
    }
}
