import DTLS
import ICE

/// The peer's transport parameters from its SDP: ICE credentials (RFC 8839 §5.4), certificate
/// fingerprints (RFC 8122 §5) and DTLS role (RFC 8842 §5). With BUNDLE every section shares the
/// transport of one section (RFC 8843 §7), so they are read from that section, falling back to the
/// session level. They stay typed from here to the media engine: the ICE agent checks the
/// ufrag of every request against `credentials`, the DTLS session the peer's certificate
/// against `fingerprints`.
public struct RemoteTransport: Sendable, Equatable {
    public var credentials: ICECredentials
    /// The usable fingerprints (at least one); those with hash functions OpenSSL lacks are left out.
    public var fingerprints: [DTLSFingerprint]

    public init(credentials: ICECredentials, fingerprints: [DTLSFingerprint]) {
        self.credentials = credentials
        self.fingerprints = fingerprints
    }

    /// Reads the parameters of `section` (or the session level when `section` is nil or lacks them).
    public init(section: MediaSection?, session: [SDPAttribute]) throws(SDPError) {
        let mid = section?.mid
        let attributes = section?.attributes ?? []
        guard let ufrag = attributes.value(of: "ice-ufrag") ?? session.value(of: "ice-ufrag"),
            let pwd = attributes.value(of: "ice-pwd") ?? session.value(of: "ice-pwd")
        else { throw .missingICECredentials(mid: mid) }
        // RFC 8839 §5.4: ice-char = ALPHA / DIGIT / "+" / "/"; ufrag 4-256, pwd 22-256 characters.
        func isICEChars(_ s: String, min: Int) -> Bool {
            s.utf8.count >= min && s.utf8.count <= 256
                && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2B || $0 == 0x2F }
        }
        guard isICEChars(ufrag, min: 4) else {
            throw .malformedAttribute(mid: mid, attribute: "ice-ufrag:" + ufrag.prefix(80), reason: "needs 4-256 letters, digits, '+' or '/' (RFC 8839 §5.4)")
        }
        guard isICEChars(pwd, min: 22) else {
            throw .malformedAttribute(mid: mid, attribute: "ice-pwd", reason: "needs 22-256 letters, digits, '+' or '/' (RFC 8839 §5.4)")
        }
        var values = attributes.values(of: "fingerprint")
        if values.isEmpty { values = session.values(of: "fingerprint") }
        guard values.count <= 16 else { throw .tooManyItems(what: "a=fingerprint lines", limit: 16) }
        var fingerprints: [DTLSFingerprint] = []
        for value in values {
            // Unknown hash functions are skipped (RFC 8122 §5 lets a peer offer several); at least
            // one must be usable.
            if let parsed = try? DTLSFingerprint(parsing: value) { fingerprints.append(parsed) }
        }
        guard !fingerprints.isEmpty else { throw .missingFingerprint }
        credentials = ICECredentials(ufrag: ufrag, password: pwd)
        self.fingerprints = fingerprints
    }

    /// The `a=setup` role of `section` (media level, then session level); nil when absent.
    public static func setup(of section: MediaSection, session: [SDPAttribute]) -> String? {
        section.value(of: "setup", session: session)
    }
}
