@testable import DTLS
import Foundation
import Testing

@Suite("the DTLS certificate in the data folder")
struct DTLSCertificateTests {
    static func temporaryDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("parley-dtls-\(UUID().uuidString)/data").path
    }

    @Test("it is created once with a 0600 key file and reused on restart")
    func createdOnceAndReused() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: (directory as NSString).deletingLastPathComponent) }

        let first = try DTLSCertificate.loadOrCreate(inDirectory: directory)
        let keyPath = (directory as NSString).appendingPathComponent(DTLSCertificate.privateKeyFileName)
        let attributes = try FileManager.default.attributesOfItem(atPath: keyPath)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let pem = try String(contentsOfFile: keyPath, encoding: .utf8)
        #expect(pem.hasPrefix("-----BEGIN PRIVATE KEY-----"))

        let second = try DTLSCertificate.loadOrCreate(inDirectory: directory)
        #expect(second.fingerprint == first.fingerprint)
        #expect(second.derBytes == first.derBytes)
    }

    @Test("the certificate is ECDSA P-256, self-signed, with a SHA-256 fingerprint")
    func p256SelfSigned() throws {
        let certificate = try DTLSCertificate.generate()
        #expect(certificate.fingerprint.algorithm == .sha256)
        let pem = try certificate.certificatePEM
        let directory = Self.temporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: (directory as NSString).deletingLastPathComponent) }
        let path = (directory as NSString).appendingPathComponent("cert.pem")
        try pem.write(toFile: path, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["x509", "-noout", "-text", "-in", path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text.contains("ASN1 OID: prime256v1"))
        #expect(text.contains("Signature Algorithm: ecdsa-with-SHA256"))
        #expect(text.contains("Issuer: CN = parley"))
        #expect(text.contains("Subject: CN = parley"))
    }

    @Test("PEM text round-trips and a key of another certificate is refused")
    func pemRoundTrip() throws {
        let certificate = try DTLSCertificate.generate()
        let other = try DTLSCertificate.generate()
        let loaded = try DTLSCertificate(certificatePEM: certificate.certificatePEM, privateKeyPEM: certificate.privateKeyPEM)
        #expect(loaded.fingerprint == certificate.fingerprint)
        #expect(throws: DTLSError.self) {
            try DTLSCertificate(certificatePEM: certificate.certificatePEM, privateKeyPEM: other.privateKeyPEM)
        }
    }

    @Test("a certificate file without its key is an error, not a silent new identity")
    func missingKeyIsAnError() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: (directory as NSString).deletingLastPathComponent) }
        _ = try DTLSCertificate.loadOrCreate(inDirectory: directory)
        try FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(DTLSCertificate.privateKeyFileName))
        #expect(throws: DTLSError.self) { try DTLSCertificate.loadOrCreate(inDirectory: directory) }
    }
}
