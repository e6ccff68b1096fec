import COpenSSL
import CParleyShims
import Foundation

/// The server's DTLS identity: a self-signed ECDSA P-256 certificate and its private key.
///
/// WebRTC authenticates DTLS peers by certificate fingerprint in SDP, not by a CA chain
/// (RFC 5763 §5, RFC 8827 §6.5), so a self-signed certificate is all that is needed. It is kept
/// as PEM in the data folder so the fingerprint survives restarts: `dtls-certificate.pem` and
/// `dtls-private-key.pem` (file mode 0600).
public final class DTLSCertificate: @unchecked Sendable {
    // Immutable after init; OpenSSL only reads them (SSL_CTX_use_certificate takes its own reference).
    let x509: OpaquePointer
    let privateKey: OpaquePointer

    /// The DER encoding of the certificate.
    public let derBytes: [UInt8]
    /// The SHA-256 fingerprint announced in our SDP (`a=fingerprint:sha-256 ...`).
    public let fingerprint: DTLSFingerprint

    public static let certificateFileName = "dtls-certificate.pem"
    public static let privateKeyFileName = "dtls-private-key.pem"

    private init(x509: OpaquePointer, privateKey: OpaquePointer) throws(DTLSError) {
        self.x509 = x509
        self.privateKey = privateKey
        let length = i2d_X509(x509, nil)
        guard length > 0 else {
            X509_free(x509)
            EVP_PKEY_free(privateKey)
            throw .openSSL("i2d_X509")
        }
        var der = [UInt8](repeating: 0, count: Int(length))
        der.withUnsafeMutableBufferPointer { buffer in
            var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            _ = i2d_X509(x509, &cursor)
        }
        derBytes = der
        fingerprint = DTLSFingerprint(certificateDER: der, algorithm: .sha256)
    }

    deinit {
        X509_free(x509)
        EVP_PKEY_free(privateKey)
    }

    /// Generates a fresh P-256 key and a self-signed certificate for it (SHA-256 signature,
    /// valid from a day ago for `validityDays`).
    public static func generate(commonName: String = "parley", validityDays: Int = 3650) throws(DTLSError) -> DTLSCertificate {
        guard let keyContext = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { throw .openSSL("EVP_PKEY_CTX_new_from_name") }
        defer { EVP_PKEY_CTX_free(keyContext) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(keyContext) == 1,
              EVP_PKEY_CTX_set_group_name(keyContext, "P-256") == 1,
              EVP_PKEY_generate(keyContext, &key) == 1, let key
        else { throw .openSSL("EVP_PKEY_generate(P-256)") }

        guard let x509 = X509_new() else {
            EVP_PKEY_free(key)
            throw .openSSL("X509_new")
        }
        var serial: UInt64 = 0
        withUnsafeMutableBytes(of: &serial) { _ = RAND_bytes($0.baseAddress!.assumingMemoryBound(to: UInt8.self), 8) }
        let built = X509_set_version(x509, 2) == 1
            && ASN1_INTEGER_set(X509_get_serialNumber(x509), Int(serial >> 2)) == 1
            && X509_gmtime_adj(X509_getm_notBefore(x509), -86_400) != nil
            && X509_gmtime_adj(X509_getm_notAfter(x509), 86_400 * validityDays) != nil
            && commonName.withCString { name in
                X509_NAME_add_entry_by_txt(X509_get_subject_name(x509), "CN", MBSTRING_ASC, UnsafeRawPointer(name).assumingMemoryBound(to: UInt8.self), -1, -1, 0) == 1
            }
            && X509_set_issuer_name(x509, X509_get_subject_name(x509)) == 1
            && X509_set_pubkey(x509, key) == 1
            && X509_sign(x509, key, EVP_sha256()) > 0
        guard built else {
            let error = DTLSError.openSSL("building the self-signed certificate")
            X509_free(x509)
            EVP_PKEY_free(key)
            throw error
        }
        return try DTLSCertificate(x509: x509, privateKey: key)
    }

    /// Reads a certificate and its private key from PEM text, checking that they belong together.
    public convenience init(certificatePEM: String, privateKeyPEM: String) throws(DTLSError) {
        let x509 = try Self.readPEM(certificatePEM, what: "certificate") { PEM_read_bio_X509($0, nil, nil, nil) }
        let key: OpaquePointer
        do {
            key = try Self.readPEM(privateKeyPEM, what: "private key") { PEM_read_bio_PrivateKey($0, nil, nil, nil) }
        } catch {
            X509_free(x509)
            throw error
        }
        guard X509_check_private_key(x509, key) == 1 else {
            X509_free(x509)
            EVP_PKEY_free(key)
            throw .openSSL("X509_check_private_key (the key does not belong to the certificate)")
        }
        try self.init(x509: x509, privateKey: key)
    }

    /// The certificate in PEM form.
    public var certificatePEM: String {
        get throws(DTLSError) { try Self.writePEM("PEM_write_bio_X509") { PEM_write_bio_X509($0, x509) } }
    }

    /// The private key in PKCS#8 PEM form (unencrypted: protect the file, not the text).
    public var privateKeyPEM: String {
        get throws(DTLSError) {
            try Self.writePEM("PEM_write_bio_PrivateKey") { PEM_write_bio_PrivateKey($0, privateKey, nil, nil, 0, nil, nil) }
        }
    }

    /// Loads the certificate from `directory`, or generates one and stores it there the first
    /// time (the directory is created if needed; the key file gets mode 0600).
    public static func loadOrCreate(inDirectory directory: String) throws(DTLSError) -> DTLSCertificate {
        let certificatePath = (directory as NSString).appendingPathComponent(certificateFileName)
        let keyPath = (directory as NSString).appendingPathComponent(privateKeyFileName)
        let files = FileManager.default
        switch (files.fileExists(atPath: certificatePath), files.fileExists(atPath: keyPath)) {
        case (true, true):
            let certificateText = try readText(certificatePath)
            let keyText = try readText(keyPath)
            return try DTLSCertificate(certificatePEM: certificateText, privateKeyPEM: keyText)
        case (false, false):
            do {
                try files.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw .certificateStorage(path: directory, reason: "\(error)")
            }
            let certificate = try generate()
            // The key first: a crash in between leaves no certificate without its key.
            try writeFile(keyPath, text: try certificate.privateKeyPEM, mode: 0o600)
            try writeFile(certificatePath, text: try certificate.certificatePEM, mode: 0o644)
            return certificate
        case (true, false):
            throw .certificateStorage(path: keyPath, reason: "the certificate exists but its private key is missing")
        case (false, true):
            throw .certificateStorage(path: certificatePath, reason: "the private key exists but its certificate is missing")
        }
    }

    // MARK: PEM and file helpers

    private static func readPEM(_ text: String, what: String, _ read: (OpaquePointer) -> OpaquePointer?) throws(DTLSError) -> OpaquePointer {
        var utf8 = Array(text.utf8)
        let result: OpaquePointer? = utf8.withUnsafeMutableBytes { bytes in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            return read(bio)
        }
        guard let result else { throw .openSSL("reading the PEM \(what)") }
        return result
    }

    private static func writePEM(_ operation: String, _ write: (OpaquePointer) -> Int32) throws(DTLSError) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw .openSSL("BIO_new") }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { throw .openSSL(operation) }
        var data: UnsafeMutablePointer<CChar>?
        let length = parley_BIO_get_mem_data(bio, &data)
        guard let data, length > 0 else { throw .openSSL(operation) }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    }

    private static func readText(_ path: String) throws(DTLSError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .certificateStorage(path: path, reason: "cannot read the file")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Writes through a temporary file created with `mode` and renames it into place, so the
    /// file never exists with wider permissions or half written.
    private static func writeFile(_ path: String, text: String, mode: mode_t) throws(DTLSError) {
        let temporary = path + ".tmp"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .certificateStorage(path: path, reason: String(cString: strerror(errno))) }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                let reason = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw .certificateStorage(path: path, reason: reason)
            }
            written += count
        }
        let synced = fsync(fd) == 0
        close(fd)
        guard synced, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw .certificateStorage(path: path, reason: reason)
        }
    }
}
