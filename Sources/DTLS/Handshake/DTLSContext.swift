import COpenSSL
import CParleyShims

/// The OpenSSL `SSL_CTX` all DTLS sessions of one certificate share: DTLS 1.2 only
/// (RFC 6347), ECDHE-ECDSA cipher suites, `use_srtp` with our profile order (RFC 5764 §4.1.1),
/// a required peer certificate checked against SDP fingerprints instead of a CA chain
/// (RFC 5763 §5, RFC 8122), no session tickets, caching or renegotiation.
///
/// Thread-safe once made: `SSL_new` on a shared `SSL_CTX` is safe from any thread.
public final class DTLSContext: @unchecked Sendable {
    public let certificate: DTLSCertificate
    /// The SRTP profiles offered (client) or accepted (server), most preferred first.
    public let srtpProfiles: [SRTPProfile]
    let context: OpaquePointer

    /// ECDHE with ECDSA (our P-256 key), AEAD first; the SHA-1 CBC ones only for old peers.
    static let cipherList = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA"

    public init(certificate: DTLSCertificate, srtpProfiles: [SRTPProfile] = SRTPProfile.preferred) throws(DTLSError) {
        precondition(!srtpProfiles.isEmpty, "at least one SRTP profile")
        guard let context = SSL_CTX_new(DTLS_method()) else { throw .openSSL("SSL_CTX_new(DTLS_method)") }
        self.context = context
        self.certificate = certificate
        self.srtpProfiles = srtpProfiles

        let options = parley_SSL_OP_NO_QUERY_MTU() | parley_SSL_OP_NO_TICKET()
            | parley_SSL_OP_CIPHER_SERVER_PREFERENCE() | parley_SSL_OP_NO_RENEGOTIATION()
        _ = SSL_CTX_set_options(context, options)
        _ = parley_SSL_CTX_set_session_cache_mode(context, Int(SSL_SESS_CACHE_OFF))
        guard parley_SSL_CTX_set_min_proto_version(context, DTLS1_2_VERSION) == 1,
              parley_SSL_CTX_set_max_proto_version(context, DTLS1_2_VERSION) == 1
        else { throw .openSSL("SSL_CTX_set_min/max_proto_version(DTLS 1.2)") }
        guard SSL_CTX_set_cipher_list(context, Self.cipherList) == 1 else { throw .openSSL("SSL_CTX_set_cipher_list") }
        guard parley_SSL_CTX_set1_groups_list(context, "X25519:P-256:P-384") == 1 else { throw .openSSL("SSL_CTX_set1_groups_list") }
        guard SSL_CTX_use_certificate(context, certificate.x509) == 1 else { throw .openSSL("SSL_CTX_use_certificate") }
        guard SSL_CTX_use_PrivateKey(context, certificate.privateKey) == 1 else { throw .openSSL("SSL_CTX_use_PrivateKey") }
        guard SSL_CTX_check_private_key(context) == 1 else { throw .openSSL("SSL_CTX_check_private_key") }
        // Returns 0 on success (unlike most of OpenSSL).
        guard SSL_CTX_set_tlsext_use_srtp(context, srtpProfiles.map(\.openSSLName).joined(separator: ":")) == 0 else {
            throw .openSSL("SSL_CTX_set_tlsext_use_srtp")
        }
        // Both sides must present a certificate; it is judged by fingerprint, not by a CA.
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
        SSL_CTX_set_cert_verify_callback(context, dtlsVerifyPeerCertificate, nil)
    }

    deinit {
        SSL_CTX_free(context)
    }
}

/// Replaces OpenSSL's chain verification: the leaf certificate must match one of the session's
/// expected fingerprints (RFC 8122 §5). Returning 0 aborts the handshake with a
/// bad_certificate alert before any keys are derived.
private func dtlsVerifyPeerCertificate(_ store: OpaquePointer?, _: UnsafeMutableRawPointer?) -> Int32 {
    guard let store,
          let ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()),
          let session = DTLSSession.from(ssl: OpaquePointer(ssl)),
          let leaf = X509_STORE_CTX_get0_cert(store)
    else { return 0 }
    if session.verifyPeer(x509: leaf) { return 1 }
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED)
    return 0
}
