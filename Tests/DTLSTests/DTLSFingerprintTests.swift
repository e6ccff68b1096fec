@testable import DTLS
import Foundation
import Testing

@Suite("SDP fingerprints (RFC 8122 §5)")
struct DTLSFingerprintTests {
    static let sample = "sha-256 D5:54:D0:44:92:F3:F9:40:3D:33:4D:93:8C:FA:72:21:7B:D1:0F:76:C3:CA:B2:F9:06:C6:14:74:86:3F:86:E4"

    @Test("parsing and formatting round-trip")
    func roundTrip() throws {
        let fingerprint = try DTLSFingerprint(parsing: Self.sample)
        #expect(fingerprint.algorithm == .sha256)
        #expect(fingerprint.digest.count == 32)
        #expect(fingerprint.digest.first == 0xD5)
        #expect(fingerprint.sdpValue == Self.sample)
    }

    @Test("hash names and hex digits are case-insensitive; an a=fingerprint: prefix is accepted")
    func lenientParsing() throws {
        let expected = try DTLSFingerprint(parsing: Self.sample)
        #expect(try DTLSFingerprint(parsing: Self.sample.lowercased()) == expected)
        #expect(try DTLSFingerprint(parsing: "SHA-256 " + Self.sample.dropFirst(8)) == expected)
        #expect(try DTLSFingerprint(parsing: "a=fingerprint:" + Self.sample + "\r\n") == expected)
    }

    @Test("malformed values are refused", arguments: [
        "", "sha-256", "md5 AB:CD", "sha-256 D5:54", "sha-256 D5:54:D0:44:92:F3:F9:40:3D:33:4D:93:8C:FA:72:21:7B:D1:0F:76:C3:CA:B2:F9:06:C6:14:74:86:3F:86:ZZ",
        "sha-256 D5:54:D0:44:92:F3:F9:40:3D:33:4D:93:8C:FA:72:21:7B:D1:0F:76:C3:CA:B2:F9:06:C6:14:74:86:3F:86:E4:00",
        "sha-256 D554:D0:44:92:F3:F9:40:3D:33:4D:93:8C:FA:72:21:7B:D1:0F:76:C3:CA:B2:F9:06:C6:14:74:86:3F:86:E4:0",
    ])
    func malformed(text: String) {
        #expect(throws: DTLSError.invalidFingerprint(text)) { try DTLSFingerprint(parsing: text) }
    }

    @Test("our certificate's fingerprint equals what the openssl command computes")
    func matchesOpenSSLCommand() throws {
        let certificate = try DTLSCertificate.generate()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-fp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("cert.pem")
        try certificate.certificatePEM.write(to: path, atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["x509", "-noout", "-fingerprint", "-sha256", "-in", path.path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        // "sha256 Fingerprint=AB:CD:..."
        let hex = try #require(text.split(separator: "=").last).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(certificate.fingerprint.hexValue == hex)
        #expect(certificate.fingerprint.sdpValue == "sha-256 " + hex)
    }
}
