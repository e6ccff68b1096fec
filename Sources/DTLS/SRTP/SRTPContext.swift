import CSRTP

/// One direction of SRTP/SRTCP for one transport (RFC 3711; GCM per RFC 7714): a libsrtp
/// session keyed with one master key and salt that protects (outbound) or unprotects (inbound)
/// every SSRC of the transport (`ssrc_any_outbound` / `ssrc_any_inbound`).
///
/// Packets are transformed in place in a caller-owned buffer; nothing is allocated per packet
/// (libsrtp makes one stream per new SSRC, once). Replay protection is on for inbound contexts
/// (RFC 3711 §3.3.2, libsrtp's default 128-packet window unless `replayWindow` says otherwise).
/// Outbound contexts allow the same sequence number to be protected again, so an SFU can answer
/// NACKs by re-sending cached packets.
///
/// Not thread-safe: use one context from one event loop.
public final class SRTPContext {
    public enum Direction: Sendable { case inbound, outbound }

    public let profile: SRTPProfile
    public let direction: Direction
    private let session: srtp_t

    /// - Parameter replayWindow: 0 keeps libsrtp's default (128); otherwise 64...32768 packets.
    public init(profile: SRTPProfile, masterKey: [UInt8], masterSalt: [UInt8], direction: Direction,
                replayWindow: Int = 0) throws(DTLSError) {
        try SRTPLibrary.ensureInitialized()
        guard masterKey.count == profile.masterKeyLength else {
            throw .invalidKeyingMaterial(expected: profile.masterKeyLength, got: masterKey.count)
        }
        guard masterSalt.count == profile.masterSaltLength else {
            throw .invalidKeyingMaterial(expected: profile.masterSaltLength, got: masterSalt.count)
        }
        var policy = srtp_policy_t()
        profile.apply(to: &policy)
        policy.ssrc.type = direction == .inbound ? ssrc_any_inbound : ssrc_any_outbound
        policy.window_size = UInt(replayWindow)
        policy.allow_repeat_tx = direction == .outbound ? 1 : 0
        var key = masterKey + masterSalt
        var created: srtp_t?
        let status = key.withUnsafeMutableBufferPointer { keyBytes in
            policy.key = keyBytes.baseAddress
            return srtp_create(&created, &policy)
        }
        // The key was copied into libsrtp's session; wipe ours.
        for index in key.indices { key[index] = 0 }
        guard status.rawValue == srtp_err_status_ok.rawValue, let created else {
            throw .srtp(status: status.rawValue)
        }
        self.profile = profile
        self.direction = direction
        self.session = created
    }

    deinit {
        srtp_dealloc(session)
    }

    /// Encrypts and authenticates the RTP packet in `buffer[0..<length]` in place; on return
    /// `length` includes the authentication tag. `buffer` needs room for `profile.rtpOverhead`
    /// more bytes.
    @inline(__always)
    public func protectRTP(_ buffer: UnsafeMutableRawBufferPointer, length: inout Int) throws(DTLSError) {
        precondition(direction == .outbound, "protect on an inbound SRTP context")
        guard length >= 12, length <= buffer.count else { throw .malformedPacket }
        let needed = length + profile.rtpOverhead
        guard needed <= buffer.count else { throw .bufferTooSmall(needed: needed, capacity: buffer.count) }
        var size = Int32(length)
        let status = srtp_protect(session, buffer.baseAddress, &size)
        try Self.check(status)
        length = Int(size)
    }

    /// Verifies and decrypts the SRTP packet in `buffer[0..<length]` in place; on return `length`
    /// excludes the tag. Throws `.replayed` for a packet already seen and `.authenticationFailed`
    /// for a forged or corrupted one.
    @inline(__always)
    public func unprotectRTP(_ buffer: UnsafeMutableRawBufferPointer, length: inout Int) throws(DTLSError) {
        precondition(direction == .inbound, "unprotect on an outbound SRTP context")
        guard length >= 12 + profile.rtpOverhead, length <= buffer.count else { throw .malformedPacket }
        var size = Int32(length)
        let status = srtp_unprotect(session, buffer.baseAddress, &size)
        try Self.check(status)
        length = Int(size)
    }

    /// Protects the compound RTCP packet in `buffer[0..<length]` in place (SRTCP, RFC 3711 §3.4);
    /// `buffer` needs room for `profile.rtcpOverhead` more bytes.
    @inline(__always)
    public func protectRTCP(_ buffer: UnsafeMutableRawBufferPointer, length: inout Int) throws(DTLSError) {
        precondition(direction == .outbound, "protect on an inbound SRTP context")
        guard length >= 8, length <= buffer.count else { throw .malformedPacket }
        let needed = length + profile.rtcpOverhead
        guard needed <= buffer.count else { throw .bufferTooSmall(needed: needed, capacity: buffer.count) }
        var size = Int32(length)
        let status = srtp_protect_rtcp(session, buffer.baseAddress, &size)
        try Self.check(status)
        length = Int(size)
    }

    /// Verifies and decrypts the SRTCP packet in `buffer[0..<length]` in place.
    @inline(__always)
    public func unprotectRTCP(_ buffer: UnsafeMutableRawBufferPointer, length: inout Int) throws(DTLSError) {
        precondition(direction == .inbound, "unprotect on an outbound SRTP context")
        guard length >= 8 + profile.rtcpOverhead, length <= buffer.count else { throw .malformedPacket }
        var size = Int32(length)
        let status = srtp_unprotect_rtcp(session, buffer.baseAddress, &size)
        try Self.check(status)
        length = Int(size)
    }

    /// Frees the stream libsrtp made for `ssrc` (one per SSRC seen, cloned from the session's
    /// template on first use); a later packet of that SSRC makes a fresh one. Without this a peer
    /// that keeps changing SSRCs, or a subscriber whose tracks come and go, grows the session.
    /// Nothing happens for an SSRC without a stream.
    public func removeStream(ssrc: UInt32) {
        // libsrtp keys streams by the SSRC as it is on the wire (network byte order).
        _ = srtp_remove_stream(session, ssrc.bigEndian)
    }

    @inline(__always)
    private static func check(_ status: srtp_err_status_t) throws(DTLSError) {
        switch status.rawValue {
        case srtp_err_status_ok.rawValue: return
        case srtp_err_status_replay_fail.rawValue, srtp_err_status_replay_old.rawValue: throw .replayed
        case srtp_err_status_auth_fail.rawValue: throw .authenticationFailed
        case srtp_err_status_bad_param.rawValue, srtp_err_status_parse_err.rawValue: throw .malformedPacket
        default: throw .srtp(status: status.rawValue)
        }
    }
}
