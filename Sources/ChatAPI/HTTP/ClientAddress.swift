import Foundation
import Hummingbird
import NIOCore

/// Which client a request comes from: the socket's peer, or, when that peer is a trusted proxy
/// (Caddy), the last `X-Forwarded-For` hop it appended (docs/protocol.md "Authentication", TRUSTED_PROXIES).
public struct TrustedProxies: Sendable {
    public let addresses: Set<String>

    public init(_ addresses: [String]) { self.addresses = Set(addresses.map(Self.normalise)) }

    public static let loopback = TrustedProxies(["127.0.0.1", "::1"])

    public func clientAddress(peer: SocketAddress?, forwardedFor: String?) -> String {
        let peerIP = peer?.ipAddress.map(Self.normalise) ?? "unknown"
        guard addresses.contains(peerIP), let forwardedFor,
              let last = forwardedFor.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty
        else { return peerIP }
        return Self.normalise(last)
    }

    /// The unit a rate limit counts: an IPv4 address, or an IPv6 /64, which one subscriber
    /// usually holds whole (RFC 6177), so that rotating through it gains nothing.
    public static func rateLimitKey(_ ip: String) -> String {
        var address = in6_addr()
        guard ip.contains(":"), inet_pton(AF_INET6, ip, &address) == 1 else { return ip }
        let bytes = withUnsafeBytes(of: &address) { Array($0.prefix(8)) }
        return bytes.map { String($0, radix: 16) }.joined(separator: ".") + "/64"
    }

    static func normalise(_ ip: String) -> String {
        let lowered = ip.lowercased()
        return lowered.hasPrefix("::ffff:") && lowered.contains(".") ? String(lowered.dropFirst(7)) : lowered
    }
}
