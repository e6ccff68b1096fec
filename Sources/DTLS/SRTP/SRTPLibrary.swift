import CSRTP
import Foundation

/// Process-wide libsrtp state: `srtp_init` runs once, before the first context is made.
public enum SRTPLibrary {
    private static let initialized: Bool = srtp_init().rawValue == srtp_err_status_ok.rawValue

    static func ensureInitialized() throws(DTLSError) {
        guard initialized else { throw .srtp(status: srtp_err_status_init_fail.rawValue) }
    }

    /// libsrtp's own version string, e.g. `libsrtp2 2.5.0`.
    public static var version: String { String(cString: srtp_get_version_string()) }

    /// Which libsrtp this process runs and on which crypto library: the shared object (or
    /// "linked statically") and "NSS" when Debian's NSS build is loaded, else "OpenSSL".
    /// Debian's package uses NSS, whose AES-CM/HMAC path is several times slower than OpenSSL's.
    public static var buildDescription: String {
        _ = try? ensureInitialized()
        var sharedObject = "linked statically"
        var backend = "OpenSSL"
        for path in loadedFiles() {
            if path.contains("libsrtp2") { sharedObject = path }
            if path.contains("libnss3") { backend = "NSS" }
        }
        return "\(version) (\(sharedObject), crypto: \(backend))"
    }

    /// The files mapped into this process (/proc/self/maps; its size reads as 0, so line by line).
    private static func loadedFiles() -> Set<String> {
        guard let file = fopen("/proc/self/maps", "r") else { return [] }
        defer { fclose(file) }
        var files: Set<String> = []
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            let text = String(cString: line)
            if let slash = text.firstIndex(of: "/") {
                files.insert(String(text[slash...].dropLast(text.hasSuffix("\n") ? 1 : 0)))
            }
        }
        return files
    }
}
