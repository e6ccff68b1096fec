import COpenSSL

/// A certificate fingerprint as carried in SDP `a=fingerprint` (RFC 8122 §5), e.g.
/// `sha-256 AB:CD:...`. The DTLS peer's certificate must match one of the fingerprints of its
/// SDP, or the transport closes (RFC 5763 §5, RFC 8842 §5).
public struct DTLSFingerprint: Hashable, Sendable, CustomStringConvertible {
    /// Hash functions from the IANA "Hash Function Textual Names" registry that OpenSSL computes.
    public enum Algorithm: String, Sendable, CaseIterable {
        case sha1 = "sha-1"
        case sha224 = "sha-224"
        case sha256 = "sha-256"
        case sha384 = "sha-384"
        case sha512 = "sha-512"

        var digestLength: Int {
            switch self {
            case .sha1: 20
            case .sha224: 28
            case .sha256: 32
            case .sha384: 48
            case .sha512: 64
            }
        }

        var evpMD: OpaquePointer? {
            switch self {
            case .sha1: EVP_sha1()
            case .sha224: EVP_sha224()
            case .sha256: EVP_sha256()
            case .sha384: EVP_sha384()
            case .sha512: EVP_sha512()
            }
        }
    }

    public let algorithm: Algorithm
    public let digest: [UInt8]

    public init(algorithm: Algorithm, digest: [UInt8]) {
        self.algorithm = algorithm
        self.digest = digest
    }

    /// Parses the attribute value `<hash-func> <fingerprint>` (RFC 8122 §5). The hash function
    /// name is case-insensitive; hex digits may be either case. A leading `a=fingerprint:` or
    /// `fingerprint:` is accepted too.
    public init(parsing text: some StringProtocol) throws(DTLSError) {
        var value = Substring(text).trimmingSpaces
        for prefix in ["a=fingerprint:", "fingerprint:"] where value.lowercased().hasPrefix(prefix) {
            value = value.dropFirst(prefix.count).trimmingSpaces
        }
        let parts = value.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, let algorithm = Algorithm(rawValue: parts[0].lowercased()) else {
            throw .invalidFingerprint(String(text))
        }
        let pairs = parts[1].split(separator: ":", omittingEmptySubsequences: false)
        guard pairs.count == algorithm.digestLength else { throw .invalidFingerprint(String(text)) }
        var digest: [UInt8] = []
        digest.reserveCapacity(pairs.count)
        for pair in pairs {
            guard pair.count == 2, let byte = UInt8(pair, radix: 16) else { throw .invalidFingerprint(String(text)) }
            digest.append(byte)
        }
        self.init(algorithm: algorithm, digest: digest)
    }

    /// The fingerprint of a DER-encoded certificate (RFC 8122 §5: the hash of the DER form).
    public init(certificateDER der: [UInt8], algorithm: Algorithm = .sha256) {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = der.withUnsafeBytes { bytes in
            EVP_Digest(bytes.baseAddress, bytes.count, &out, &length, algorithm.evpMD, nil)
        }
        precondition(ok == 1, "EVP_Digest failed: \(openSSLErrors())")
        self.init(algorithm: algorithm, digest: Array(out.prefix(Int(length))))
    }

    /// The fingerprint of an OpenSSL `X509*`.
    init(x509: OpaquePointer, algorithm: Algorithm) {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = X509_digest(x509, algorithm.evpMD, &out, &length)
        precondition(ok == 1, "X509_digest failed: \(openSSLErrors())")
        self.init(algorithm: algorithm, digest: Array(out.prefix(Int(length))))
    }

    /// Uppercase hex pairs joined by colons, as RFC 8122 §5 writes them.
    public var hexValue: String {
        let digits = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digest.count * 3)
        for (index, byte) in digest.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ":")) }
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The SDP attribute value: `sha-256 AB:CD:...` (without `a=fingerprint:`).
    public var sdpValue: String { "\(algorithm.rawValue) \(hexValue)" }

    public var description: String { sdpValue }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var value = self
        // "\r\n" is one Character in Swift; Character.isWhitespace covers it, spaces and tabs.
        while let first = value.first, first.isWhitespace { value = value.dropFirst() }
        while let last = value.last, last.isWhitespace { value = value.dropLast() }
        return value
    }
}
