import Crypto
import Testing
@testable import ICE

/// RFC 5769: the STUN test vectors, parsed, verified and reproduced byte for byte.
@Suite struct STUNVectorTests {
    let key = STUNIntegrity.shortTermKey(password: RFC5769.password)

    @Test func sampleRequestParsesWithItsAttributes() throws {
        let m = try STUNMessage(parsing: RFC5769.request)
        #expect(m.type == .bindingRequest)
        #expect(m.transactionID == RFC5769.transactionID)
        #expect(m.attribute(.software) == .software("STUN test client"))
        #expect(m.attribute(.priority) == .priority(0x6e00_01ff))
        #expect(m.attribute(.iceControlled) == .iceControlled(tieBreaker: 0x932f_f9b1_5126_3b36))
        #expect(m.attribute(.username) == .username("evtj:h6vY"))
        #expect(m.attribute(.fingerprint) == .fingerprint(0xe57a_3bcf))
    }

    @Test func sampleRequestIntegrityAndFingerprintVerify() throws {
        try STUNMessageView.with(RFC5769.request) { v in
            #expect(v.hasValidFingerprint)
            #expect(v.hasValidIntegrity(key: key))
            #expect(!v.hasValidIntegrity(key: STUNIntegrity.shortTermKey(password: "wrong")))
        }
    }

    @Test func sampleRequestIsReproducedByteForByte() throws {
        let m = STUNMessage(type: .bindingRequest, transactionID: RFC5769.transactionID, attributes: [
            .software("STUN test client"), .priority(0x6e00_01ff),
            .iceControlled(tieBreaker: 0x932f_f9b1_5126_3b36), .username("evtj:h6vY"),
        ])
        #expect(try m.serialized(integrityKey: key, fingerprint: true, padding: 0x20) == RFC5769.request)
    }

    @Test func ipv4ResponseDecodesXorMappedAddress() throws {
        let m = try STUNMessage(parsing: RFC5769.ipv4Response)
        #expect(m.type == .bindingSuccess)
        #expect(m.attribute(.software) == .software("test vector"))
        #expect(m.attribute(.xorMappedAddress) == .xorMappedAddress(TransportAddress(ip: "192.0.2.1", port: 32853)!))
        try STUNMessageView.with(RFC5769.ipv4Response) { v in
            #expect(v.hasValidFingerprint)
            #expect(v.hasValidIntegrity(key: key))
        }
        let again = STUNMessage(type: .bindingSuccess, transactionID: RFC5769.transactionID, attributes: [
            .software("test vector"), .xorMappedAddress(TransportAddress(ip: "192.0.2.1", port: 32853)!),
        ])
        #expect(try again.serialized(integrityKey: key, fingerprint: true, padding: 0x20) == RFC5769.ipv4Response)
    }

    @Test func ipv6ResponseDecodesXorMappedAddress() throws {
        let m = try STUNMessage(parsing: RFC5769.ipv6Response)
        let expected = TransportAddress(ip: "2001:db8:1234:5678:11:2233:4455:6677", port: 32853)!
        #expect(m.attribute(.xorMappedAddress) == .xorMappedAddress(expected))
        try STUNMessageView.with(RFC5769.ipv6Response) { v in
            #expect(v.hasValidFingerprint)
            #expect(v.hasValidIntegrity(key: key))
        }
        let again = STUNMessage(type: .bindingSuccess, transactionID: RFC5769.transactionID, attributes: [
            .software("test vector"), .xorMappedAddress(expected),
        ])
        #expect(try again.serialized(integrityKey: key, fingerprint: true, padding: 0x20) == RFC5769.ipv6Response)
    }

    @Test func ourBindingSuccessWriterMatchesTheVectorLayout() throws {
        // The writer emits XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY, FINGERPRINT: the IPv4 vector minus SOFTWARE.
        var out: [UInt8] = []
        STUNResponseWriter.bindingSuccess(
            into: &out, transactionID: RFC5769.transactionID,
            mapped: TransportAddress(ip: "192.0.2.1", port: 32853)!, key: STUNIntegrityKey(key))
        let m = try STUNMessage(parsing: out)
        #expect(m.attributes.map(\.type) == [.xorMappedAddress, .messageIntegrity, .fingerprint])
        #expect(Array(out[20..<32]) == Array(RFC5769.ipv4Response[36..<48]))
        try STUNMessageView.with(out) { v in #expect(v.hasValidIntegrity(key: key) && v.hasValidFingerprint) }
    }

    @Test func longTermCredentialRequestVerifies() throws {
        let m = try STUNMessage(parsing: RFC5769.longTermRequest)
        #expect(m.attribute(.username) == .username("\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}"))
        #expect(m.attribute(.nonce) == .nonce("f//499k954d6OL34oL9FSTvy64sA"))
        #expect(m.attribute(.realm) == .realm("example.org"))
        // RFC 5769 §2.4: the password is "The<U+00AD>M<U+00AA>tr<U+2168>", "TheMatrIX" after SASLprep.
        #expect(STUNIntegrity.saslPrep("The\u{00AD}M\u{00AA}tr\u{2168}") == "TheMatrIX")
        let key = STUNIntegrity.longTermKey(
            username: "\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}", realm: "example.org",
            password: "The\u{00AD}M\u{00AA}tr\u{2168}")
        try STUNMessageView.with(RFC5769.longTermRequest) { v in
            #expect(v.fingerprintOffset == nil)
            #expect(v.hasValidIntegrity(key: key))
        }
        let again = STUNMessage(type: .bindingRequest, transactionID: m.transactionID, attributes: [
            .username("\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}"), .nonce("f//499k954d6OL34oL9FSTvy64sA"),
            .realm("example.org"),
        ])
        #expect(try again.serialized(integrityKey: key) == RFC5769.longTermRequest)
    }

    @Test func crc32MatchesTheStandardCheckValue() {
        #expect(Crc32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }
}
