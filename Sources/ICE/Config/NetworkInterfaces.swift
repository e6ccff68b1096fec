#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Local interface addresses, for the default `RTC_PUBLIC_IP`.
public enum NetworkInterfaces {
    /// Every address of every interface that is up, in getifaddrs order.
    public static func addresses() -> [(interface: String, address: TransportAddress, isLoopback: Bool)] {
        var head: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&head) == 0, let first = head else { return [] }
        defer { freeifaddrs(head) }
        var out: [(String, TransportAddress, Bool)] = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let ifa = cursor {
            defer { cursor = ifa.pointee.ifa_next }
            let flags = Int32(bitPattern: ifa.pointee.ifa_flags)
            guard flags & Int32(IFF_UP) != 0, let sa = ifa.pointee.ifa_addr,
                  let address = TransportAddress(sockaddr: UnsafeRawPointer(sa))
            else { continue }
            out.append((String(cString: ifa.pointee.ifa_name), address, flags & Int32(IFF_LOOPBACK) != 0))
        }
        return out
    }

    /// The first non-loopback address, IPv4 preferred, link-local IPv6 (fe80::/10) skipped;
    /// nil on a machine with only loopback.
    public static func firstNonLoopbackAddress() -> String? {
        let candidates = addresses().filter { !$0.isLoopback }
        if let v4 = candidates.first(where: { $0.address.isIPv4 }) { return v4.address.ipString }
        let global = candidates.first { $0.address.high >> 54 != 0x3FA }  // not fe80::/10
        return global?.address.ipString
    }
}
