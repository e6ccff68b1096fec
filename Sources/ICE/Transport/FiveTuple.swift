/// The transport protocol of a candidate or a path: UDP, or ICE-TCP (RFC 6544).
public enum TransportProtocol: UInt8, Sendable, Hashable {
    case udp
    case tcp
}

/// A path between the peer and Parley: remote and local transport address and protocol (the
/// "5-tuple" of RFC 8445 §3). ICE validates and nominates 5-tuples; DTLS and SRTP traffic is
/// routed to its transport by the 5-tuple it arrived on. Inline, hashable, no heap.
public struct FiveTuple: Hashable, Sendable, CustomStringConvertible {
    public var remote: TransportAddress
    public var local: TransportAddress
    public var transport: TransportProtocol

    public init(remote: TransportAddress, local: TransportAddress, transport: TransportProtocol = .udp) {
        self.remote = remote
        self.local = local
        self.transport = transport
    }

    public var description: String { "\(transport) \(remote) -> \(local)" }

    /// Four words instead of the seven fields: every media datagram is looked up by its 5-tuple.
    /// (`local.high` is left out of the hash, not out of equality.)
    @inline(__always)
    public func hash(into hasher: inout Hasher) {
        hasher.combine(remote.high)
        hasher.combine(remote.low)
        hasher.combine(local.low)
        hasher.combine(UInt64(remote.port) | UInt64(local.port) << 16 | UInt64(transport.rawValue) << 32)
    }
}
