import COpenSSL
import CParleyShims

/// One DTLS 1.2 association (RFC 6347) carrying the DTLS-SRTP key exchange (RFC 5764) for one
/// ICE transport: a state machine around an OpenSSL `SSL` with a datagram BIO and no I/O.
///
/// Feed it each received DTLS datagram with `receive(datagram:now:)` and call
/// `handleTimeout(now:)` when the deadline of the last output passes; every call returns a
/// `DTLSOutput` with the datagrams to send, a state change, and the next timer deadline.
/// On `.connected` the output carries the SRTP keying material; on `.failed` the caller closes
/// the transport.
///
/// The peer's certificate must match one of the fingerprints of its SDP (RFC 8122 §5, RFC 5763
/// §5). They are checked in OpenSSL's certificate callback, so a wrong certificate aborts the
/// handshake before keys exist. If the peer's SDP is not known yet when the handshake ends (a
/// DTLS ClientHello can overtake the SDP answer), the session waits in `.awaitingFingerprint`
/// until `setRemoteFingerprints(_:now:)`, and only then reports `.connected`.
///
/// Not thread-safe: drive it from the event loop that owns the transport.
public final class DTLSSession {
    public enum State: Sendable, Equatable {
        case new
        case handshaking
        /// Handshake done, waiting for the peer's SDP fingerprint before releasing the keys.
        case awaitingFingerprint
        case connected
        case failed(DTLSError)
        case closed
    }

    public let role: DTLSRole
    public let context: DTLSContext
    /// The largest datagram the session writes (RFC 6347 §4.1.1.1); 1200 bytes by default, which
    /// fits every path WebRTC cares about with room for TURN and IPv6 headers.
    public let mtu: Int
    public private(set) var state: State = .new
    /// The fingerprints from the peer's SDP `a=fingerprint` lines.
    public private(set) var remoteFingerprints: [DTLSFingerprint]
    /// The SHA-256 fingerprint of the certificate the peer presented, once it has.
    public private(set) var peerFingerprint: DTLSFingerprint?
    /// The SRTP profile and keys, once connected.
    public private(set) var keyingMaterial: SRTPKeyingMaterial?
    /// The current retransmission deadline, if a timer runs.
    public private(set) var timerDeadline: ContinuousClock.Instant?
    /// Handshake flights re-sent because their timer expired.
    public private(set) var retransmissions = 0
    /// DTLS application data records received and dropped (Parley runs no data channels here).
    public private(set) var droppedApplicationData = 0

    let initialTimeoutMicroseconds: UInt32
    private let maximumRetransmissions: Int
    private let ssl: OpaquePointer
    private let bio: DatagramBIO
    private var verifyFailure: DTLSError?
    private var readBuffer: [UInt8] = []

    /// - Parameters:
    ///   - remoteFingerprints: from the peer's SDP; may be empty and set later.
    ///   - initialRetransmissionTimeout: the first retransmission timer; it doubles on every
    ///     expiry up to 60 s (RFC 6347 §4.2.4.1 recommends 1 s to start).
    ///   - maximumRetransmissions: after this many re-sent flights the handshake fails.
    public init(context: DTLSContext, role: DTLSRole = .server, remoteFingerprints: [DTLSFingerprint] = [],
                mtu: Int = 1200, initialRetransmissionTimeout: Duration = .seconds(1),
                maximumRetransmissions: Int = 7) throws(DTLSError) {
        precondition(mtu >= 256 && mtu <= 65_507, "DTLS MTU out of range")
        guard let ssl = SSL_new(context.context) else { throw .openSSL("SSL_new") }
        let bio: DatagramBIO
        do {
            bio = try DatagramBIO()
        } catch {
            SSL_free(ssl)
            throw error
        }
        self.ssl = ssl
        self.bio = bio
        self.role = role
        self.context = context
        self.mtu = mtu
        self.remoteFingerprints = remoteFingerprints
        let (seconds, attoseconds) = initialRetransmissionTimeout.components
        let micros = max(1_000, min(60_000_000, seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
        self.initialTimeoutMicroseconds = UInt32(micros)
        self.maximumRetransmissions = maximumRetransmissions

        // One BIO for both directions: SSL_set_bio then takes a single reference.
        SSL_set_bio(ssl, bio.bio, bio.bio)
        _ = SSL_set_ex_data(ssl, 0, Unmanaged.passUnretained(self).toOpaque())
        _ = parley_DTLS_set_link_mtu(ssl, mtu)
        DTLS_set_timer_cb(ssl, dtlsTimerCallback)
        switch role {
        case .server: SSL_set_accept_state(ssl)
        case .client: SSL_set_connect_state(ssl)
        }
    }

    deinit {
        SSL_free(ssl)  // frees the BIO too
    }

    /// RFC 7983 §7: a datagram whose first byte is 20...63 is DTLS.
    public static func isDTLS(firstByte: UInt8) -> Bool { (20...63).contains(firstByte) }

    // MARK: driving the session

    /// Starts the handshake: a client sends its ClientHello; a server just waits for one
    /// (calling this is optional for a server).
    public func start(now: ContinuousClock.Instant) -> DTLSOutput {
        guard state == .new else { return DTLSOutput(timerDeadline: timerDeadline) }
        state = .handshaking
        return advanceHandshake(now: now)
    }

    /// Feeds one received DTLS datagram.
    public func receive(datagram: UnsafeRawBufferPointer, now: ContinuousClock.Instant) -> DTLSOutput {
        guard datagram.count > 0 else { return DTLSOutput(timerDeadline: timerDeadline) }
        bio.incoming = datagram
        defer { bio.incoming = nil }
        switch state {
        case .new:
            state = .handshaking
            return advanceHandshake(now: now)
        case .handshaking:
            return advanceHandshake(now: now)
        case .awaitingFingerprint, .connected:
            return readRecords(now: now)
        case .failed, .closed:
            return DTLSOutput()
        }
    }

    /// Feeds one received DTLS datagram.
    public func receive(datagram: [UInt8], now: ContinuousClock.Instant) -> DTLSOutput {
        datagram.withUnsafeBytes { receive(datagram: $0, now: now) }
    }

    /// Call when `timerDeadline` has passed: re-sends the last flight if it is still unanswered
    /// (RFC 6347 §4.2.4) and returns the next deadline.
    public func handleTimeout(now: ContinuousClock.Instant) -> DTLSOutput {
        switch state {
        case .handshaking, .awaitingFingerprint, .connected: break
        case .new, .failed, .closed: return DTLSOutput()
        }
        ERR_clear_error()
        let result = parley_DTLSv1_handle_timeout(ssl)
        if result < 0 { return fail(.handshakeTimedOut) }
        if result > 0 {
            retransmissions += 1
            if retransmissions > maximumRetransmissions { return fail(.handshakeTimedOut) }
        }
        return DTLSOutput(datagrams: bio.takeOutgoing(), timerDeadline: armTimer(now: now))
    }

    /// Sets the fingerprints from the peer's SDP. If the handshake already finished and was
    /// waiting for them, the output reports `.connected` or `.failed(.fingerprintMismatch)`.
    public func setRemoteFingerprints(_ fingerprints: [DTLSFingerprint], now: ContinuousClock.Instant) -> DTLSOutput {
        remoteFingerprints = fingerprints
        guard state == .awaitingFingerprint, let material = keyingMaterial else { return DTLSOutput(timerDeadline: timerDeadline) }
        guard let peer = SSL_get0_peer_certificate(ssl) else { return fail(.noPeerCertificate) }
        guard matchesRemoteFingerprint(peer) else { return failAfterHandshake(mismatch(peer)) }
        state = .connected
        return DTLSOutput(datagrams: bio.takeOutgoing(), event: .connected(material), timerDeadline: timerDeadline)
    }

    /// Sends close_notify and ends the session.
    public func close() -> DTLSOutput {
        switch state {
        case .failed, .closed: return DTLSOutput()
        case .new:
            state = .closed
            return DTLSOutput(event: .closed)
        case .handshaking, .awaitingFingerprint, .connected:
            ERR_clear_error()
            _ = SSL_shutdown(ssl)
            state = .closed
            timerDeadline = nil
            return DTLSOutput(datagrams: bio.takeOutgoing(), event: .closed)
        }
    }

    // MARK: internals

    private func advanceHandshake(now: ContinuousClock.Instant) -> DTLSOutput {
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        if result == 1 { return finishHandshake(now: now) }
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return DTLSOutput(datagrams: bio.takeOutgoing(), timerDeadline: armTimer(now: now))
        default:
            return fail(verifyFailure ?? .handshakeFailed(reason: openSSLErrors()))
        }
    }

    private func finishHandshake(now: ContinuousClock.Instant) -> DTLSOutput {
        guard let peer = SSL_get0_peer_certificate(ssl) else { return failAfterHandshake(.noPeerCertificate) }
        peerFingerprint = DTLSFingerprint(x509: peer, algorithm: .sha256)
        guard let selected = SSL_get_selected_srtp_profile(ssl),
              let profile = SRTPProfile(rawValue: UInt16(truncatingIfNeeded: selected.pointee.id)),
              context.srtpProfiles.contains(profile)
        else { return failAfterHandshake(.noSRTPProfile) }

        var exported = [UInt8](repeating: 0, count: SRTPKeyingMaterial.exportedLength(for: profile))
        let label = SRTPKeyingMaterial.exporterLabel
        let ok = SSL_export_keying_material(ssl, &exported, exported.count, label, label.utf8.count, nil, 0, 0)
        guard ok == 1 else { return failAfterHandshake(.openSSL("SSL_export_keying_material")) }
        let material: SRTPKeyingMaterial
        do {
            material = try SRTPKeyingMaterial(profile: profile, exported: exported, role: role)
        } catch {
            return failAfterHandshake(error)
        }
        keyingMaterial = material
        let deadline = armTimer(now: now)
        if remoteFingerprints.isEmpty {
            state = .awaitingFingerprint
            return DTLSOutput(datagrams: bio.takeOutgoing(), timerDeadline: deadline)
        }
        // Already checked in the certificate callback; checked again before releasing keys.
        guard matchesRemoteFingerprint(peer) else { return failAfterHandshake(mismatch(peer)) }
        state = .connected
        return DTLSOutput(datagrams: bio.takeOutgoing(), event: .connected(material), timerDeadline: deadline)
    }

    /// After the handshake, records are retransmitted handshake messages (OpenSSL answers them
    /// by re-sending our last flight), alerts, or application data, which is dropped.
    private func readRecords(now: ContinuousClock.Instant) -> DTLSOutput {
        if readBuffer.isEmpty { readBuffer = [UInt8](repeating: 0, count: 2048) }
        ERR_clear_error()
        while true {
            let count = readBuffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if count > 0 {
                droppedApplicationData += 1
                continue
            }
            switch SSL_get_error(ssl, count) {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                return DTLSOutput(datagrams: bio.takeOutgoing(), timerDeadline: armTimer(now: now))
            case SSL_ERROR_ZERO_RETURN:
                _ = SSL_shutdown(ssl)  // answer close_notify with ours
                state = .closed
                timerDeadline = nil
                return DTLSOutput(datagrams: bio.takeOutgoing(), event: .closed)
            default:
                return fail(.handshakeFailed(reason: openSSLErrors()))
            }
        }
    }

    private func armTimer(now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        var microseconds: Int64 = 0
        timerDeadline = parley_DTLSv1_get_timeout(ssl, &microseconds) == 1 ? now.advanced(by: .microseconds(microseconds)) : nil
        return timerDeadline
    }

    private func fail(_ error: DTLSError) -> DTLSOutput {
        state = .failed(error)
        timerDeadline = nil
        keyingMaterial = nil
        return DTLSOutput(datagrams: bio.takeOutgoing(), event: .failed(error))
    }

    /// Failing after OpenSSL completed the handshake: tell the peer with close_notify.
    private func failAfterHandshake(_ error: DTLSError) -> DTLSOutput {
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        return fail(error)
    }

    private func mismatch(_ peer: OpaquePointer) -> DTLSError {
        .fingerprintMismatch(presented: DTLSFingerprint(x509: peer, algorithm: .sha256).sdpValue)
    }

    private func matchesRemoteFingerprint(_ x509: OpaquePointer) -> Bool {
        remoteFingerprints.contains { DTLSFingerprint(x509: x509, algorithm: $0.algorithm) == $0 }
    }

    /// Called by OpenSSL's certificate callback with the peer's leaf certificate.
    func verifyPeer(x509: OpaquePointer) -> Bool {
        peerFingerprint = DTLSFingerprint(x509: x509, algorithm: .sha256)
        if remoteFingerprints.isEmpty { return true }  // judged once the SDP arrives
        if matchesRemoteFingerprint(x509) { return true }
        verifyFailure = mismatch(x509)
        return false
    }

    static func from(ssl: OpaquePointer?) -> DTLSSession? {
        guard let ssl, let data = SSL_get_ex_data(ssl, 0) else { return nil }
        return Unmanaged<DTLSSession>.fromOpaque(data).takeUnretainedValue()
    }
}

/// The retransmission timer (RFC 6347 §4.2.4.1): the session's initial value, doubled on each
/// expiry, at most 60 s. OpenSSL passes 0 when a new flight starts its timer.
private func dtlsTimerCallback(_ ssl: OpaquePointer?, _ previous: UInt32) -> UInt32 {
    let initial = DTLSSession.from(ssl: ssl)?.initialTimeoutMicroseconds ?? 1_000_000
    return previous == 0 ? initial : min(previous * 2, 60_000_000)
}
