#if canImport(Glibc)
import Glibc
#endif

/// Passive ICE-TCP (RFC 6544): a TCP listener on the media port number whose connections carry
/// RFC 4571-framed STUN, DTLS and SRTP into the same router as UDP. Each connection is one
/// 5-tuple; a connection that has not passed a valid ICE check within the auth timeout is
/// closed, and the number of connections is capped, so strangers hold no state for long.
/// Owned by the media I/O thread.
final class ICETcpServer {
    final class Connection {
        let fd: Int32
        let path: FiveTuple
        let acceptedAt: ContinuousClock.Instant
        var deframer = ICETcpDeframer()
        /// Bytes not yet accepted by the kernel (bounded: a peer that does not read is closed).
        var pending: [UInt8] = []
        var validated = false

        init(fd: Int32, path: FiveTuple, acceptedAt: ContinuousClock.Instant) {
            self.fd = fd
            self.path = path
            self.acceptedAt = acceptedAt
        }
    }

    let listenFD: Int32
    let localAddress: TransportAddress
    let maxConnections: Int
    let authTimeout: Duration
    static let maxPendingBytes = 1 << 20
    private(set) var connections: [Int32: Connection] = [:]
    private var byRemote: [TransportAddress: Int32] = [:]
    /// One read buffer shared by all connections (the thread handles one at a time).
    private var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    /// Reused to build outgoing frames.
    private var frame: [UInt8] = []

    init(bind: TransportAddress, maxConnections: Int, authTimeout: Duration) throws(MediaSocketError) {
        let v6 = !bind.isIPv4
        let fd = socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system(call: "socket", errno: errno) }
        var one: Int32 = 1
        var zero: Int32 = 0
        if v6 { _ = setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &zero, socklen_t(MemoryLayout<Int32>.size)) }
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var storage = sockaddr_storage()
        let length = bind.write(to: &storage, asIPv6: v6)
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) }
        }
        guard rc == 0, listen(fd, 128) == 0 else {
            let e = errno
            Glibc.close(fd)
            throw .system(call: "bind/listen tcp", errno: e)
        }
        self.listenFD = fd
        self.localAddress = bind
        self.maxConnections = maxConnections
        self.authTimeout = authTimeout
    }

    deinit {
        for fd in connections.keys { Glibc.close(fd) }
        Glibc.close(listenFD)
    }

    /// Accepts every waiting connection (closing those over the cap at once).
    func acceptAll(now: ContinuousClock.Instant) {
        while true {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    accept(listenFD, $0, &length)
                }
            }
            guard fd >= 0 else { return }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            guard connections.count < maxConnections,
                  let remote = withUnsafePointer(to: &storage, { TransportAddress(sockaddr: UnsafeRawPointer($0)) })
            else {
                Glibc.close(fd)
                continue
            }
            var one: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let path = FiveTuple(remote: remote, local: localAddress, transport: .tcp)
            connections[fd] = Connection(fd: fd, path: path, acceptedAt: now)
            byRemote[remote] = fd
        }
    }

    /// Reads what the connection has and hands every complete frame to `deliver`. Closes it on
    /// EOF, error or a frame over 65535 bytes.
    func read(fd: Int32, deliver: (UnsafeRawBufferPointer, FiveTuple) -> Void) {
        guard let c = connections[fd] else { return }
        while true {
            let n = readBuffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n == 0 { close(fd); return }
            if n < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return }
                close(fd)
                return
            }
            let ok = readBuffer.withUnsafeBytes { raw -> Bool in
                do {
                    try c.deframer.feed(UnsafeRawBufferPointer(rebasing: raw[0..<n])) { frame in deliver(frame, c.path) }
                    return true
                } catch {
                    return false
                }
            }
            guard ok else {
                close(fd)
                return
            }
            if n < readBuffer.count { return }
        }
    }

    /// Sends one framed packet to the connection of `path`; dropped if there is none. The frame
    /// is built in a reused buffer and written with one write; what the kernel does not take
    /// waits in the connection's bounded pending buffer.
    func send(_ packet: UnsafeRawBufferPointer, to path: FiveTuple) {
        guard let fd = byRemote[path.remote], let c = connections[fd], packet.count <= 0xFFFF else { return }
        let (h0, h1) = ICETcpDeframer.header(for: packet.count)
        if !c.pending.isEmpty {
            c.pending.append(h0)
            c.pending.append(h1)
            c.pending.append(contentsOf: packet)
        } else {
            frame.removeAll(keepingCapacity: true)
            frame.append(h0)
            frame.append(h1)
            frame.append(contentsOf: packet)
            let written = frame.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written == frame.count { return }
            if written < 0 && errno != EAGAIN && errno != EWOULDBLOCK {
                close(fd)
                return
            }
            c.pending.append(contentsOf: frame[max(0, written)...])
        }
        if c.pending.count > Self.maxPendingBytes { close(fd) }
    }

    /// Writes buffered bytes of a connection that became writable.
    func flushPending(fd: Int32) {
        guard let c = connections[fd], !c.pending.isEmpty else { return }
        let n = c.pending.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        if n > 0 {
            c.pending.removeFirst(n)
        } else if n < 0 && errno != EAGAIN && errno != EWOULDBLOCK {
            close(fd)
        }
    }

    func wantsWrite(fd: Int32) -> Bool { !(connections[fd]?.pending.isEmpty ?? true) }

    /// Closes connections that never validated within the auth timeout, and those whose path
    /// no longer belongs to any transport after having validated (consent lost, removed).
    func closeStale(now: ContinuousClock.Instant, isValidated: (FiveTuple) -> Bool) {
        var stale: [Int32] = []
        for (fd, c) in connections {
            if isValidated(c.path) {
                c.validated = true
            } else if c.validated || now - c.acceptedAt >= authTimeout {
                stale.append(fd)
            }
        }
        for fd in stale { close(fd) }
    }

    func close(_ fd: Int32) {
        guard let c = connections.removeValue(forKey: fd) else { return }
        if byRemote[c.path.remote] == fd { byRemote[c.path.remote] = nil }
        Glibc.close(fd)
    }
}
