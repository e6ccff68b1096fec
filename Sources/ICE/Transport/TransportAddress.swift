#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
import ByteOrder
#endif

/// An IP address and port ("transport address", RFC 8445 §3), IPv4 or IPv6, stored inline so
/// that hashing and comparing one on the media path never touches the heap. IPv4 addresses are
/// kept in their IPv4-mapped IPv6 form (RFC 4291 §2.5.5.2) with `isIPv4` set, so an IPv4 peer
/// seen through a dual-stack socket and one seen through an IPv4 socket compare equal.
public struct TransportAddress: Hashable, Sendable, CustomStringConvertible {
    /// The 16 address bytes, big-endian, first eight in `high`.
    public var high: UInt64
    public var low: UInt64
    public var port: UInt16

    public var isIPv4: Bool { high == 0 && low >> 32 == 0xFFFF }

    public init(ipv6Bytes high: UInt64, _ low: UInt64, port: UInt16) {
        self.high = high
        self.low = low
        self.port = port
    }

    /// An IPv4 address given as a host-order 32-bit value.
    public init(ipv4 address: UInt32, port: UInt16) {
        self.high = 0
        self.low = 0xFFFF_0000_0000 | UInt64(address)
        self.port = port
    }

    /// The IPv4 address in host order, if this is one.
    public var ipv4: UInt32? { isIPv4 ? UInt32(truncatingIfNeeded: low) : nil }

    /// Parses a numeric IPv4 or IPv6 literal (no host names).
    public init?(ip: String, port: UInt16) {
        var a4 = in_addr()
        if inet_pton(AF_INET, ip, &a4) == 1 {
            self.init(ipv4: UInt32(bigEndian: a4.s_addr), port: port)
            return
        }
        var a6 = in6_addr()
        if inet_pton(AF_INET6, ip, &a6) == 1 {
            let (h, l) = withUnsafeBytes(of: &a6) { raw in (raw.readBE64(at: 0), raw.readBE64(at: 8)) }
            self.init(ipv6Bytes: h, l, port: port)
            return
        }
        return nil
    }

    /// The 4 or 16 address bytes in network order.
    public var addressBytes: [UInt8] {
        var out: [UInt8] = []
        if let v4 = ipv4 {
            out.appendBE32(v4)
        } else {
            out.appendBE64(high)
            out.appendBE64(low)
        }
        return out
    }

    /// The numeric address without the port ("192.0.2.1", "2001:db8::1").
    public var ipString: String {
        var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        if let v4 = ipv4 {
            var a = in_addr(s_addr: v4.bigEndian)
            _ = inet_ntop(AF_INET, &a, &buf, socklen_t(buf.count))
        } else {
            var a = in6_addr()
            withUnsafeMutableBytes(of: &a) { raw in
                let bytes = addressBytes
                for i in 0..<16 { raw[i] = bytes[i] }
            }
            _ = inet_ntop(AF_INET6, &a, &buf, socklen_t(buf.count))
        }
        return String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var description: String {
        isIPv4 ? "\(ipString):\(port)" : "[\(ipString)]:\(port)"
    }

    // MARK: sockaddr conversion

    /// Reads a `sockaddr_in` or `sockaddr_in6` (IPv4-mapped IPv6 becomes IPv4).
    public init?(sockaddr pointer: UnsafeRawPointer) {
        let family = pointer.load(as: sockaddr.self).sa_family
        if family == sa_family_t(AF_INET) {
            let sin = pointer.load(as: sockaddr_in.self)
            self.init(ipv4: UInt32(bigEndian: sin.sin_addr.s_addr), port: UInt16(bigEndian: sin.sin_port))
        } else if family == sa_family_t(AF_INET6) {
            var sin6 = pointer.load(as: sockaddr_in6.self)
            let (h, l) = withUnsafeBytes(of: &sin6.sin6_addr) { raw in (raw.readBE64(at: 0), raw.readBE64(at: 8)) }
            self.init(ipv6Bytes: h, l, port: UInt16(bigEndian: sin6.sin6_port))
        } else {
            return nil
        }
    }

    /// Writes this address as a `sockaddr_in6` (when `asIPv6`, IPv4 is written IPv4-mapped, for a
    /// dual-stack socket) or a `sockaddr_in`, and returns the length used.
    @discardableResult
    public func write(to storage: UnsafeMutablePointer<sockaddr_storage>, asIPv6: Bool) -> socklen_t {
        let raw = UnsafeMutableRawPointer(storage)
        if let v4 = ipv4, !asIPv6 {
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = port.bigEndian
            sin.sin_addr = in_addr(s_addr: v4.bigEndian)
            raw.storeBytes(of: sin, as: sockaddr_in.self)
            return socklen_t(MemoryLayout<sockaddr_in>.size)
        }
        var sin6 = sockaddr_in6()
        sin6.sin6_family = sa_family_t(AF_INET6)
        sin6.sin6_port = port.bigEndian
        withUnsafeMutableBytes(of: &sin6.sin6_addr) { a in
            a.storeBytes(of: high.bigEndian, toByteOffset: 0, as: UInt64.self)
            a.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt64.self)
        }
        raw.storeBytes(of: sin6, as: sockaddr_in6.self)
        return socklen_t(MemoryLayout<sockaddr_in6>.size)
    }
}
