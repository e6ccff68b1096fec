import CSRTP

/// The DTLS-SRTP protection profiles Parley negotiates in the `use_srtp` extension
/// (RFC 5764 §4.1.2), in our order of preference: AEAD_AES_128_GCM (RFC 7714 §14.2) first,
/// AES_CM_128_HMAC_SHA1_80 (RFC 5764 §4.1.2, the profile every WebRTC stack has) second.
public enum SRTPProfile: UInt16, Sendable, CaseIterable, CustomStringConvertible {
    case aes128CmHmacSha1_80 = 0x0001
    case aeadAes128Gcm = 0x0007

    /// Parley's preference order; as the DTLS server our order wins.
    public static let preferred: [SRTPProfile] = [.aeadAes128Gcm, .aes128CmHmacSha1_80]

    /// The name OpenSSL's `SSL_CTX_set_tlsext_use_srtp` takes.
    public var openSSLName: String {
        switch self {
        case .aes128CmHmacSha1_80: "SRTP_AES128_CM_SHA1_80"
        case .aeadAes128Gcm: "SRTP_AEAD_AES_128_GCM"
        }
    }

    public var description: String {
        switch self {
        case .aes128CmHmacSha1_80: "AES_CM_128_HMAC_SHA1_80"
        case .aeadAes128Gcm: "AEAD_AES_128_GCM"
        }
    }

    /// SRTP master key length in bytes (RFC 5764 §4.1.2, RFC 7714 §12).
    public var masterKeyLength: Int { 16 }

    /// SRTP master salt length in bytes: 112 bits for AES-CM, 96 bits for GCM (RFC 7714 §12).
    public var masterSaltLength: Int {
        switch self {
        case .aes128CmHmacSha1_80: 14
        case .aeadAes128Gcm: 12
        }
    }

    /// Bytes SRTP adds to an RTP packet: the 80-bit HMAC tag, or the 16-byte GCM tag.
    public var rtpOverhead: Int {
        switch self {
        case .aes128CmHmacSha1_80: 10
        case .aeadAes128Gcm: 16
        }
    }

    /// Bytes SRTCP adds to an RTCP packet: the tag plus the 4-byte E flag and SRTCP index.
    public var rtcpOverhead: Int { rtpOverhead + 4 }

    /// Fills libsrtp crypto policies for RTP and RTCP.
    func apply(to policy: inout srtp_policy_t) {
        switch self {
        case .aes128CmHmacSha1_80:
            srtp_crypto_policy_set_rtp_default(&policy.rtp)
            srtp_crypto_policy_set_rtcp_default(&policy.rtcp)
        case .aeadAes128Gcm:
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp)
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp)
        }
    }
}
