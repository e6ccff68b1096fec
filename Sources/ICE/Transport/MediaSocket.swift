import CICEShims
#if canImport(Glibc)
import Glibc
#endif

/// The one non-blocking UDP socket on `RTC_UDP_PORT` that carries every peer's STUN, DTLS and
/// SRTP (docs/architecture.md). It receives and sends in batches with recvmmsg/sendmmsg (through the
/// `CICEShims` C target) into buffers allocated once: receiving and sending a
/// datagram allocate nothing.
///
/// Bound to `::` it is dual-stack (IPV6_V6ONLY off): IPv4 peers appear as IPv4 addresses.
/// Not thread-safe: one thread (the media I/O thread) owns it.
public final class MediaSocket {
    public let fd: Int32
    /// The bound address, with the actual port (useful when binding port 0).
    public let localAddress: TransportAddress
    public let isIPv6Socket: Bool
    public let batchSize: Int
    /// Largest datagram received whole; longer ones are dropped (MTU-sized media never is).
    public static let maxDatagram = 2048

    private let receiveSlots: UnsafeMutablePointer<cice_datagram>
    private let receiveSlab: UnsafeMutableRawPointer
    private let sendSlots: UnsafeMutablePointer<cice_datagram>
    private let sendSlab: UnsafeMutableRawPointer
    private var queued = 0
    /// Datagrams the kernel refused (buffer full, unreachable): UDP drops them, we count them.
    public private(set) var sendDrops = 0
    public private(set) var receiveErrors = 0

    public init(bindAddress: String, port: UInt16, batchSize: Int = 32, socketBufferBytes: Int = 4 << 20) throws(MediaSocketError) {
        guard let bind = TransportAddress(ip: bindAddress, port: port) else { throw .badBindAddress(bindAddress) }
        let v6 = !bind.isIPv4
        let fd = socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system(call: "socket", errno: errno) }
        var zero: Int32 = 0
        var bufferSize = Int32(clamping: socketBufferBytes)
        if v6 { _ = setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &zero, socklen_t(MemoryLayout<Int32>.size)) }
        // No SO_REUSEADDR: for UDP it would let a second socket (another process, or port 0
        // handing out a taken port) bind the same port and split the traffic.
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufferSize, socklen_t(MemoryLayout<Int32>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufferSize, socklen_t(MemoryLayout<Int32>.size))
        var storage = sockaddr_storage()
        let length = bind.write(to: &storage, asIPv6: v6)
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) }
        }
        guard rc == 0 else {
            let e = errno
            Glibc.close(fd)
            throw .system(call: "bind", errno: e)
        }
        var bound = sockaddr_storage()
        var boundLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &boundLength) }
        }
        self.fd = fd
        self.isIPv6Socket = v6
        self.localAddress = withUnsafePointer(to: &bound) { TransportAddress(sockaddr: UnsafeRawPointer($0)) } ?? bind
        self.batchSize = max(1, min(batchSize, 64))

        receiveSlots = .allocate(capacity: self.batchSize)
        sendSlots = .allocate(capacity: self.batchSize)
        receiveSlab = .allocate(byteCount: self.batchSize * Self.maxDatagram, alignment: 16)
        sendSlab = .allocate(byteCount: self.batchSize * Self.maxDatagram, alignment: 16)
        for i in 0..<self.batchSize {
            (receiveSlots + i).initialize(to: cice_datagram())
            receiveSlots[i].data = receiveSlab + i * Self.maxDatagram
            receiveSlots[i].capacity = UInt32(Self.maxDatagram)
            (sendSlots + i).initialize(to: cice_datagram())
            sendSlots[i].data = sendSlab + i * Self.maxDatagram
            sendSlots[i].capacity = UInt32(Self.maxDatagram)
        }
    }

    deinit {
        Glibc.close(fd)
        receiveSlots.deallocate()
        sendSlots.deallocate()
        receiveSlab.deallocate()
        sendSlab.deallocate()
    }

    /// Receives up to `batchSize` waiting datagrams without blocking and calls `body` for each
    /// (the bytes are borrowed from the receive slab). Returns how many arrived.
    @discardableResult
    public func receiveBatch(_ body: (UnsafeRawBufferPointer, TransportAddress) -> Void) -> Int {
        let n = cice_recv_batch(fd, receiveSlots, UInt32(batchSize))
        guard n > 0 else {
            if n < 0 { receiveErrors += 1 }
            return 0
        }
        for i in 0..<Int(n) {
            let slot = receiveSlots + i
            guard slot.pointee.length > 0,
                  let from = withUnsafePointer(to: &slot.pointee.address, { TransportAddress(sockaddr: UnsafeRawPointer($0)) })
            else { continue }
            body(UnsafeRawBufferPointer(start: slot.pointee.data, count: Int(slot.pointee.length)), from)
        }
        return Int(n)
    }

    /// Copies a datagram into the send batch; the batch goes out when full or on `flush()`.
    /// Datagrams over `maxDatagram` bytes are dropped.
    public func enqueue(_ packet: UnsafeRawBufferPointer, to address: TransportAddress) {
        guard packet.count <= Self.maxDatagram else {
            sendDrops += 1
            return
        }
        if !isIPv6Socket && !address.isIPv4 {
            sendDrops += 1
            return
        }
        let slot = sendSlots + queued
        if let base = packet.baseAddress, packet.count > 0 {
            slot.pointee.data.copyMemory(from: base, byteCount: packet.count)
        }
        slot.pointee.length = UInt32(packet.count)
        slot.pointee.address_length = UInt32(address.write(to: &slot.pointee.address, asIPv6: isIPv6Socket))
        queued += 1
        if queued == batchSize { flush() }
    }

    /// Sends every queued datagram (sendmmsg). A datagram the kernel refuses is dropped and
    /// counted, and the rest still go out; a full socket buffer drops the rest of the batch.
    public func flush() {
        var i = 0
        while i < queued {
            let n = cice_send_batch(fd, sendSlots + i, UInt32(queued - i))
            if n > 0 {
                i += Int(n)
            } else if n == -EAGAIN || n == -EWOULDBLOCK {
                sendDrops += queued - i
                break
            } else if n == -EINTR {
                continue
            } else {
                sendDrops += 1
                i += 1
            }
        }
        queued = 0
    }

    /// Sends one datagram at once with sendto (for tools and tests; the media path batches).
    @discardableResult
    public func sendNow(_ packet: UnsafeRawBufferPointer, to address: TransportAddress) -> Bool {
        var storage = sockaddr_storage()
        let length = address.write(to: &storage, asIPv6: isIPv6Socket)
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, packet.baseAddress, packet.count, 0, $0, length) }
        }
        return rc == packet.count
    }
}
