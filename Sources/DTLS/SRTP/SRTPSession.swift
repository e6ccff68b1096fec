/// SRTP for one transport: an outbound context keyed with our key and salt, an inbound one
/// keyed with the peer's (RFC 5764 §4.2). Made from the keying material a finished DTLS
/// handshake hands out.
///
/// Not thread-safe: use it from the event loop that owns the transport.
public final class SRTPSession {
    public let profile: SRTPProfile
    /// Protects what we send (RTP and RTCP).
    public let outbound: SRTPContext
    /// Unprotects what the peer sends (RTP and RTCP), with replay protection.
    public let inbound: SRTPContext

    public init(keyingMaterial material: SRTPKeyingMaterial, replayWindow: Int = 0) throws(DTLSError) {
        profile = material.profile
        outbound = try SRTPContext(profile: material.profile, masterKey: material.localMasterKey,
                                   masterSalt: material.localMasterSalt, direction: .outbound)
        inbound = try SRTPContext(profile: material.profile, masterKey: material.remoteMasterKey,
                                  masterSalt: material.remoteMasterSalt, direction: .inbound,
                                  replayWindow: replayWindow)
    }

    @inline(__always)
    public func protectRTP(_ buffer: UnsafeMutableRawBufferPointer, length: inout Int) throws(DTLSError) {
        try outbound.protectRTP(buffer, length: &length)
    }

    @inline(__always)
    public func unprotectRTP(_ buffer: UnsafeMutableRawBufferPointer, length: inout Int) throws(DTLSError) {
        try inbound.unprotectRTP(buffer, length: &length)
    }

    @inline(__always)
    public func protectRTCP(_ buffer: UnsafeMutableRawBufferPointer, length: inout Int) throws(DTLSError) {
        try outbound.protectRTCP(buffer, length: &length)
    }

    @inline(__always)
    public func unprotectRTCP(_ buffer: UnsafeMutableRawBufferPointer, length: inout Int) throws(DTLSError) {
        try inbound.unprotectRTCP(buffer, length: &length)
    }
}
