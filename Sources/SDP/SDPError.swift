/// Why an SDP offer or answer was refused. Every SDP parser and negotiation failure is one of
/// these (docs/architecture.md, "Budgets and bounds"): SDP from a client is hostile input, and the message
/// should tell the person who sent it what to change.
public enum SDPError: Error, Sendable, Equatable, CustomStringConvertible {
    // MARK: limits
    /// The text is longer than Parley accepts (`SDPLimits.maxBytes`).
    case tooLarge(bytes: Int, limit: Int)
    /// More m-sections than Parley accepts (`SDPLimits.maxMediaSections`).
    case tooManyMediaSections(limit: Int)
    /// A list inside one m-section (payload types, rids, ssrcs, attributes) is absurdly long.
    case tooManyItems(what: String, limit: Int)
    /// A publish offer sends more tracks (sending audio/video sections) than `CALL_MAX_TRACKS`.
    case tooManyTracks(found: Int, limit: Int)
    /// A publish offer's video section simulcasts more encodings than `SDPLimits.maxSimulcastEncodings`.
    case tooManySimulcastEncodings(mid: String, found: Int, limit: Int)

    // MARK: syntax (RFC 8866)
    /// A line that is not `<letter>=<value>`, has control characters, or a malformed field.
    case malformedLine(line: Int, text: String, reason: String)
    /// A required session line (`v=`, `o=`, `s=`) is missing or out of order (RFC 8866 §5).
    case missingSessionLine(String)
    /// An attribute whose value does not have the syntax its RFC gives.
    case malformedAttribute(mid: String?, attribute: String, reason: String)

    // MARK: negotiation
    /// An m-section has no `a=mid` (Unified Plan / JSEP needs one in every section, RFC 8843 §9.1).
    case missingMid(index: Int)
    /// Two m-sections share one `a=mid` (RFC 8843 §9.1).
    case duplicateMid(String)
    /// No `a=ice-ufrag`/`a=ice-pwd` at media or session level (RFC 8839 §5.4).
    case missingICECredentials(mid: String?)
    /// No usable `a=fingerprint` (RFC 8122 §5; WebRTC requires DTLS-SRTP, RFC 8827 §6.5).
    case missingFingerprint
    /// The offer takes the DTLS server role (`a=setup:passive`) or uses a value Parley cannot
    /// answer (RFC 5763 §5, RFC 8842 §5.3): Parley is always the DTLS server.
    case unsupportedSetup(found: String)
    /// An accepted m-section without `a=rtcp-mux` (RFC 8843 requires it with BUNDLE; JSEP §5.1.3).
    case rtcpMuxRequired(mid: String)
    /// Several media sections but no `a=group:BUNDLE` listing them (Parley has one transport per
    /// peer connection, RFC 8843).
    case bundleRequired(mid: String)
    /// A sending audio/video section uses a protocol other than DTLS-SRTP (`UDP/TLS/RTP/SAVPF`).
    case unsupportedProtocol(mid: String, proto: String)
    /// A sending audio/video section offers no codec Parley can receive.
    case noCommonCodec(kind: MediaKind, mid: String, index: Int, offered: [String])

    // MARK: subscribe answer
    /// The answer has a different number of m-sections than the offer (RFC 8829 §5.3.1).
    case answerSectionCount(offered: Int, answered: Int)
    /// The answer's m-section at `index` has another mid than the offer's (RFC 8829 §5.3.1).
    case answerMidMismatch(index: Int, offered: String, answered: String?)
    /// The answer keeps a section but drops the payload type Parley sends in it.
    case answerDroppedCodec(mid: String, payloadType: UInt8)
    /// The answer moved an offered header extension to another id (RFC 8285 §6).
    case answerExtensionIdChanged(mid: String, uri: String, offered: UInt8, answered: UInt8)

    public var description: String {
        switch self {
        case .tooLarge(let bytes, let limit):
            "SDP of \(bytes) bytes is larger than the \(limit) bytes Parley accepts"
        case .tooManyMediaSections(let limit):
            "SDP has more than \(limit) m-sections; Parley accepts at most \(limit) per peer connection"
        case .tooManyItems(let what, let limit):
            "SDP has more than \(limit) \(what)"
        case .tooManyTracks(let found, let limit):
            "the offer sends \(found) tracks; Parley accepts at most \(limit) sending audio/video sections per publish offer"
        case .tooManySimulcastEncodings(let mid, let found, let limit):
            "m-section mid \(mid) simulcasts \(found) encodings; Parley accepts at most \(limit) per video section"
        case .malformedLine(let line, let text, let reason):
            "SDP line \(line) '\(text)' is malformed: \(reason)"
        case .missingSessionLine(let line):
            "SDP lacks the session line \(line) (RFC 8866 §5 needs v=, o=, s= first, in that order)"
        case .malformedAttribute(let mid, let attribute, let reason):
            "SDP attribute '\(attribute)'\(mid.map { " in mid \($0)" } ?? "") is malformed: \(reason)"
        case .missingMid(let index):
            "m-section \(index) has no a=mid; Parley needs Unified Plan SDP with a mid in every m-section"
        case .duplicateMid(let mid):
            "two m-sections use a=mid:\(mid); each mid must be unique (RFC 8843 §9.1)"
        case .missingICECredentials(let mid):
            "no a=ice-ufrag/a=ice-pwd\(mid.map { " for mid \($0)" } ?? "") at media or session level (RFC 8839 §5.4)"
        case .missingFingerprint:
            "no valid a=fingerprint (e.g. 'a=fingerprint:sha-256 AB:CD:...'); WebRTC needs DTLS-SRTP (RFC 8122 §5)"
        case .unsupportedSetup(let found):
            "a=setup:\(found) is not supported: Parley is always the DTLS server, so an offer must say "
                + "a=setup:actpass or active and an answer to Parley's offer a=setup:active (RFC 5763 §5)"
        case .rtcpMuxRequired(let mid):
            "m-section mid \(mid) lacks a=rtcp-mux; Parley multiplexes RTP and RTCP on one port (RFC 8843, RFC 5761)"
        case .bundleRequired(let mid):
            "m-section mid \(mid) is not in the a=group:BUNDLE group; Parley needs all media bundled on one transport "
                + "(bundlePolicy 'max-bundle', RFC 8843)"
        case .unsupportedProtocol(let mid, let proto):
            "m-section mid \(mid) uses '\(proto)'; Parley needs DTLS-SRTP (UDP/TLS/RTP/SAVPF)"
        case .noCommonCodec(let kind, let mid, let index, let offered):
            "m-section '\(kind.rawValue)' (mid \(mid), index \(index)) offers no codec Parley can receive ("
                + (kind == .audio ? "Opus/48000/2" : "VP8, H.264 constrained baseline packetization-mode=1, VP9 profile 0")
                + "); it offered: " + (offered.isEmpty ? "nothing" : offered.joined(separator: ", "))
        case .answerSectionCount(let offered, let answered):
            "the answer has \(answered) m-sections but the offer had \(offered) (RFC 8829 §5.3.1)"
        case .answerMidMismatch(let index, let offered, let answered):
            "answer m-section \(index) has mid \(answered ?? "(none)") but the offer's is \(offered)"
        case .answerDroppedCodec(let mid, let payloadType):
            "the answer accepts mid \(mid) but drops payload type \(payloadType), the only codec Parley sends there"
        case .answerExtensionIdChanged(let mid, let uri, let offered, let answered):
            "the answer uses id \(answered) for \(uri) in mid \(mid) but Parley offered id \(offered) (RFC 8285 §6)"
        }
    }
}
