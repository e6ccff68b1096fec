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
}
