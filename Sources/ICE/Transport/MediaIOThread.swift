import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The media I/O thread: owns the UDP `MediaSocket`, the optional ICE-TCP listener and the
/// `MediaTransportRouter`, and runs them in one loop (poll, recvmmsg, route, sendmmsg, and a
/// consent tick every second). Everything on the media path runs here synchronously: no locks,
/// no actor hops per packet.
///
/// Other threads talk to it only through `execute`, which queues a closure to run on this
/// thread with the router (to add or remove transports, or to send); that queue is the only
/// lock, taken once per wake-up, never per packet.
public final class MediaIOThread: @unchecked Sendable {
    // @unchecked: every stored var below is touched only by the I/O thread, except `inbox` (a
    // Mutex), `stopping` (an Atomic) and the wake pipe (a file descriptor).
    public let configuration: MediaTransportConfiguration
    /// The bound UDP address (the actual port, if 0 was asked).
    public let localAddress: TransportAddress
    private let udp: MediaSocket
    private let tcp: ICETcpServer?
    private let output: Output
    /// The router, for the owner to give what will run on this thread at its construction
    /// (the SFU's media engine sends through it). Not `Sendable`: once `start()` has run, it is
    /// touched only on the I/O thread, in `execute` work and the ticker.
    public let router: MediaTransportRouter
    private let inbox = Mutex<[Work]>([])
    private let stopping = Atomic<Bool>(false)
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let finished = DispatchSemaphore(value: 0)
    private let started = Atomic<Bool>(false)
    private var pollSet: [pollfd] = []
    /// The owner's periodic work (the SFU's RTCP reports, congestion feedback, DTLS timers).
    private var ticker: ((ContinuousClock.Instant, MediaTransportRouter) -> Void)?
    private var tickerInterval: Duration = .milliseconds(20)

    /// A closure handed over with `sending`: its captures are disconnected from the caller, so
    /// moving it to the I/O thread is safe even though it is not `@Sendable`.
    private struct Work: @unchecked Sendable {
        let run: (MediaTransportRouter) -> Void
    }

    /// Routes the router's sends to UDP or to the ICE-TCP connection of the 5-tuple.
    final class Output: DatagramSink {
        let udp: MediaSocket
        let tcp: ICETcpServer?
        init(udp: MediaSocket, tcp: ICETcpServer?) {
            self.udp = udp
            self.tcp = tcp
        }
        func send(_ packet: UnsafeRawBufferPointer, to path: FiveTuple) {
            switch path.transport {
            case .udp: udp.enqueue(packet, to: path.remote)
            case .tcp: tcp?.send(packet, to: path)
            }
        }
    }

    /// Opens the sockets (UDP, and TCP on the same port number when ICE-TCP is enabled).
    /// Call `start()` to run the loop.
    public init(configuration: MediaTransportConfiguration) throws(MediaSocketError) {
        self.configuration = configuration
        let (udp, tcp) = try Self.openSockets(configuration)
        self.udp = udp
        self.tcp = tcp
        self.localAddress = udp.localAddress
        output = Output(udp: udp, tcp: tcp)
        var agentConfiguration = ICELiteAgent.Configuration()
        agentConfiguration.consentTimeout = configuration.consentTimeout
        router = MediaTransportRouter(agent: ICELiteAgent(configuration: agentConfiguration), sink: output)
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw .system(call: "pipe", errno: errno) }
        _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
        _ = fcntl(fds[1], F_SETFL, O_NONBLOCK)
        wakeRead = fds[0]
        wakeWrite = fds[1]
    }

    /// The UDP socket, and the TCP listener on the same port number. With port 0 the kernel
    /// picks a free UDP port, which may be taken for TCP: then another UDP port is tried.
    private static func openSockets(_ configuration: MediaTransportConfiguration) throws(MediaSocketError)
        -> (MediaSocket, ICETcpServer?) {
        var attempt = 0
        while true {
            let udp = try MediaSocket(
                bindAddress: configuration.bindAddress, port: configuration.port,
                batchSize: configuration.batchSize, socketBufferBytes: configuration.socketBufferBytes)
            guard configuration.iceTCPEnabled else { return (udp, nil) }
            var bind = udp.localAddress
            if let requested = TransportAddress(ip: configuration.bindAddress, port: udp.localAddress.port) { bind = requested }
            do {
                return (udp, try ICETcpServer(bind: bind, maxConnections: configuration.maxTCPConnections,
                                              authTimeout: configuration.tcpAuthTimeout))
            } catch {
                attempt += 1
                guard configuration.port == 0, case .system(_, EADDRINUSE) = error, attempt < 16 else { throw error }
            }
        }
    }

    deinit {
        Glibc.close(wakeRead)
        Glibc.close(wakeWrite)
    }

    /// Starts the loop on its own thread.
    public func start() {
        guard !started.exchange(true, ordering: .sequentiallyConsistent) else { return }
        let thread = Thread { [self] in
            self.run()
            self.finished.signal()
        }
        thread.name = "parley-media-io"
        thread.start()
    }

    /// Stops the loop and waits for the thread to finish. Pending `execute` work is dropped.
    public func stop() {
        guard started.load(ordering: .sequentiallyConsistent),
              !stopping.exchange(true, ordering: .sequentiallyConsistent) else { return }
        wake()
        finished.wait()
    }

    /// Runs `work` on the I/O thread with the router, soon (the thread is woken).
    public func execute(_ work: sending @escaping (MediaTransportRouter) -> Void) {
        let item = Work(run: work)
        inbox.withLock { $0.append(item) }
        wake()
    }

    /// Runs `tick` on the I/O thread every `interval` (after packets are handled, before the
    /// batch is flushed), replacing any earlier ticker. Timers of the media path live here rather
    /// than in a timer per object: one check per tick, nothing scheduled per packet.
    public func setTicker(every interval: Duration, _ tick: sending @escaping (ContinuousClock.Instant, MediaTransportRouter) -> Void) {
        let work = Work(run: { [self] _ in
            self.ticker = tick
            self.tickerInterval = interval
        })
        inbox.withLock { $0.append(work) }
        wake()
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = Glibc.write(wakeWrite, &byte, 1)
    }

    // MARK: the loop

    private func run() {
        var nextTick = ContinuousClock.now + .seconds(1)
        var nextOwnerTick = ContinuousClock.now
        var drain = [UInt8](repeating: 0, count: 64)
        while !stopping.load(ordering: .relaxed) {
            buildPollSet()
            let wakeAt = ticker == nil ? nextTick : min(nextTick, nextOwnerTick)
            let untilTick = (wakeAt - .now) / .milliseconds(1)
            let timeoutMS = Int32(max(0, min(1000, untilTick.rounded(.up))))
            let ready = poll(&pollSet, nfds_t(pollSet.count), timeoutMS)
            let now = ContinuousClock.now
            if ready > 0 {
                if pollSet[0].revents != 0 {
                    while drain.withUnsafeMutableBytes({ Glibc.read(wakeRead, $0.baseAddress, $0.count) }) > 0 {}
                    runInbox()
                }
                if pollSet[1].revents != 0 { receiveUDP(now: now) }
                if let tcp {
                    if pollSet[2].revents != 0 { tcp.acceptAll(now: now) }
                    for entry in pollSet.dropFirst(3) where entry.revents != 0 {
                        if entry.revents & Int16(POLLOUT) != 0 { tcp.flushPending(fd: entry.fd) }
                        if entry.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                            tcp.read(fd: entry.fd) { frame, path in router.receive(frame, from: path, now: now) }
                        }
                    }
                }
            }
            if now >= nextTick {
                router.expireConsent(now: now)
                tcp?.closeStale(now: now) { router.agent.transport(for: $0) != nil }
                nextTick = now + .seconds(1)
            }
            if let ticker, now >= nextOwnerTick {
                ticker(now, router)
                nextOwnerTick = now + tickerInterval
            }
            udp.flush()
        }
    }

    private func receiveUDP(now: ContinuousClock.Instant) {
        let local = udp.localAddress
        // Bounded rounds, so TCP and the inbox get their turn under a flood.
        for _ in 0..<16 {
            let n = udp.receiveBatch { packet, from in
                router.receive(packet, from: FiveTuple(remote: from, local: local, transport: .udp), now: now)
            }
            udp.flush()
            if n < udp.batchSize { break }
        }
    }

    private func runInbox() {
        let work = inbox.withLock { queue -> [Work] in
            let taken = queue
            queue.removeAll(keepingCapacity: true)
            return taken
        }
        for item in work { item.run(router) }
    }

    private func buildPollSet() {
        pollSet.removeAll(keepingCapacity: true)
        pollSet.append(pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0))
        pollSet.append(pollfd(fd: udp.fd, events: Int16(POLLIN), revents: 0))
        if let tcp {
            pollSet.append(pollfd(fd: tcp.listenFD, events: Int16(POLLIN), revents: 0))
            for fd in tcp.connections.keys {
                let events = Int16(POLLIN) | (tcp.wantsWrite(fd: fd) ? Int16(POLLOUT) : 0)
                pollSet.append(pollfd(fd: fd, events: events, revents: 0))
            }
        }
    }
}
