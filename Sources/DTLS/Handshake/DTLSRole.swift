/// Which side of the DTLS handshake an endpoint takes. In Parley's calls the server always
/// takes the server role (`a=setup:passive` in its answer, RFC 5763 §5, RFC 8842 §5.3); the
/// client role exists for tests and tools that talk to another server.
public enum DTLSRole: Sendable, Hashable {
    case server
    case client
}
