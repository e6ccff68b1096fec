import DTLS
import ICE

/// Parley's side of a peer connection, put into every answer and offer it writes: ICE
/// credentials (RFC 8839 §5.4), the DTLS certificate fingerprint (RFC 8122 §5), its host
/// candidates (ICE-lite, RFC 8445 §2.5) and the address for `c=`.
public struct LocalTransport: Sendable {
    public var credentials: ICECredentials
    /// The certificate's fingerprint, written as `a=fingerprint:sha-256 AB:CD:...`.
    public var fingerprint: DTLSFingerprint
    /// Full lines, e.g. `a=candidate:1 1 udp 2130706431 127.0.0.1 7882 typ host` (ICECandidateLines).
    public var candidates: [String]
    /// The address for the `c=` line, IPv4 or IPv6.
    public var address: String
    /// The `o=` line session id, stable for the life of the peer connection (RFC 8829 §5.2.1).
    public var sessionId: UInt64

    public init(credentials: ICECredentials, fingerprint: DTLSFingerprint, candidates: [String], address: String, sessionId: UInt64) {
        self.credentials = credentials
        self.fingerprint = fingerprint
        self.candidates = candidates
        self.address = address
        self.sessionId = sessionId
    }

    /// `IN IP4 <address>` or `IN IP6 <address>` (RFC 8866 §5.7).
    public var connectionField: SDPField {
        SDPField("c", address.contains(":") ? "IN IP6 \(address)" : "IN IP4 \(address)")
    }

    /// The session part every description Parley writes starts with: `o=- <id> <version> IN IP4
    /// 127.0.0.1` (RFC 8829 §5.2.1), `s=-`, `t=0 0` and `a=ice-lite` (RFC 8839 §5.3).
    public func session(version: UInt64, bundle: [String]) -> SessionDescription {
        var attributes = [SDPAttribute("ice-lite")]
        if !bundle.isEmpty { attributes.append(SDPAttribute("group", (["BUNDLE"] + bundle).joined(separator: " "))) }
        attributes.append(SDPAttribute("msid-semantic", " WMS"))
        return SessionDescription(
            origin: SDPOrigin(sessionId: String(sessionId), sessionVersion: String(version)), attributes: attributes)
    }

    /// The transport attributes of an m-section: ICE credentials (RFC 8839 §5.4), fingerprint
    /// (RFC 8122 §5), DTLS role (RFC 8842 §5) and `a=rtcp-mux` (RFC 5761 §5.1.3).
    public func transportAttributes(setup: String) -> [SDPAttribute] {
        [
            SDPAttribute("ice-ufrag", credentials.ufrag), SDPAttribute("ice-pwd", credentials.password),
            SDPAttribute("fingerprint", fingerprint.sdpValue), SDPAttribute("setup", setup), SDPAttribute("rtcp-mux"),
        ]
    }

    /// The candidates and `a=end-of-candidates`: an ICE-lite agent knows all its candidates when
    /// it writes SDP (RFC 8840 §8.2).
    public var candidateAttributes: [SDPAttribute] {
        var out: [SDPAttribute] = []
        for line in candidates {
            var text = Substring(line).spacesTrimmed
            if text.hasPrefix("a=") { text = text.dropFirst(2) }
            out.append(SDPAttribute(parsing: text))
        }
        out.append(SDPAttribute("end-of-candidates"))
        return out
    }
}
