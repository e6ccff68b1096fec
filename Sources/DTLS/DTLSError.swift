import COpenSSL

/// Everything that can go wrong in the DTLS module: certificates, fingerprints, the DTLS-SRTP
/// handshake (RFC 5764, RFC 6347) and SRTP/SRTCP protection (RFC 3711, RFC 7714).
///
/// The SRTP cases carry no strings, so throwing them on the per-packet path does not allocate.
public enum DTLSError: Error, Equatable, Sendable, CustomStringConvertible {
    // MARK: setup
    /// An OpenSSL call failed while setting something up; `reason` is OpenSSL's error queue.
    case openSSL(operation: String, reason: String)
    /// The certificate or key in the data folder could not be read or written.
    case certificateStorage(path: String, reason: String)
    /// An `a=fingerprint` value that is not `<hash-func> <hex:hex:...>` (RFC 8122 §5).
    case invalidFingerprint(String)
    /// Keying material of the wrong size for the SRTP profile (RFC 5764 §4.2).
    case invalidKeyingMaterial(expected: Int, got: Int)

    // MARK: handshake
    /// The peer's certificate matches none of the fingerprints from its SDP (RFC 8122 §5);
    /// the transport must close.
    case fingerprintMismatch(presented: String)
    /// The peer sent no certificate although WebRTC requires one from both sides.
    case noPeerCertificate
    /// The peer offered none of our SRTP protection profiles in `use_srtp` (RFC 5764 §4.1.2).
    case noSRTPProfile
    /// The handshake failed inside OpenSSL (an alert from the peer, a bad message, ...).
    case handshakeFailed(reason: String)
    /// The retransmission timer expired too often without an answer (RFC 6347 §4.2.4).
    case handshakeTimedOut
    /// The peer sent close_notify.
    case closedByPeer
    /// The operation needs a finished handshake.
    case notConnected

    // MARK: SRTP
    /// The buffer cannot hold the packet plus its SRTP authentication tag.
    case bufferTooSmall(needed: Int, capacity: Int)
    /// Too short or malformed to be an RTP/RTCP packet.
    case malformedPacket
    /// A packet whose index was already seen, or is older than the replay window (RFC 3711 §3.3.2).
    case replayed
    /// The authentication tag did not verify (RFC 3711 §3.4, RFC 7714 §9).
    case authenticationFailed
    /// Any other libsrtp status code (`srtp_err_status_t`).
    case srtp(status: UInt32)

    public var description: String {
        switch self {
        case .openSSL(let operation, let reason): "OpenSSL \(operation) failed: \(reason)"
        case .certificateStorage(let path, let reason): "DTLS certificate storage \(path): \(reason)"
        case .invalidFingerprint(let value): "invalid DTLS fingerprint '\(value)'"
        case .invalidKeyingMaterial(let expected, let got): "SRTP keying material is \(got) bytes, expected \(expected)"
        case .fingerprintMismatch(let presented): "peer certificate \(presented) does not match the SDP fingerprint"
        case .noPeerCertificate: "peer sent no certificate"
        case .noSRTPProfile: "no common SRTP protection profile"
        case .handshakeFailed(let reason): "DTLS handshake failed: \(reason)"
        case .handshakeTimedOut: "DTLS handshake timed out"
        case .closedByPeer: "DTLS closed by peer"
        case .notConnected: "DTLS not connected"
        case .bufferTooSmall(let needed, let capacity): "buffer of \(capacity) bytes, \(needed) needed"
        case .malformedPacket: "malformed RTP/RTCP packet"
        case .replayed: "SRTP replay"
        case .authenticationFailed: "SRTP authentication failed"
        case .srtp(let status): "libsrtp status \(status)"
        }
    }
}

/// Drains OpenSSL's (thread-local) error queue into one line.
func openSSLErrors() -> String {
    var lines: [String] = []
    var buffer = [CChar](repeating: 0, count: 256)
    while true {
        let code = ERR_get_error()
        if code == 0 { break }
        ERR_error_string_n(code, &buffer, buffer.count)
        lines.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    return lines.isEmpty ? "no OpenSSL error reported" : lines.joined(separator: "; ")
}

extension DTLSError {
    static func openSSL(_ operation: String) -> DTLSError {
        .openSSL(operation: operation, reason: openSSLErrors())
    }
}
