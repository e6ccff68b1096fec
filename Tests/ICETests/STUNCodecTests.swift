import Crypto
import Testing
@testable import ICE

/// Every attribute round-trips, and hostile input is refused with a typed error.
@Suite struct STUNCodecTests {
    static let v4 = TransportAddress(ip: "203.0.113.7", port: 54321)!
    static let v6 = TransportAddress(ip: "2001:db8::42", port: 443)!

    static let everyAttribute: [STUNAttribute] = [
        .mappedAddress(v4), .mappedAddress(v6), .xorMappedAddress(v4), .xorMappedAddress(v6),
        .username("abcd:efgh"), .errorCode(code: 420, reason: "Unknown Attribute"),
        .unknownAttributes([0x0031, 0x7777, 0x0002]), .realm("example.org"), .nonce("n0nce"),
        .software("Parley"), .priority(0x6e00_01ff), .useCandidate,
        .iceControlled(tieBreaker: 0x0102_0304_0506_0708), .iceControlling(tieBreaker: .max),
        .other(type: 0xC057, value: [0, 1, 0, 0x0a]),
    ]

    @Test(arguments: everyAttribute)
    func attributeRoundTrips(_ attribute: STUNAttribute) throws {
        let m = STUNMessage(type: .bindingRequest, attributes: [attribute])
        let parsed = try STUNMessage(parsing: try m.serialized())
        #expect(parsed == m)
    }

    @Test func integrityAndFingerprintRoundTrip() throws {
        let key = STUNIntegrity.shortTermKey(password: "0123456789012345678901")
        let m = STUNMessage(type: .bindingRequest, attributes: [.username("a:b"), .priority(1), .useCandidate])
        let bytes = try m.serialized(integrityKey: key, fingerprint: true)
        let parsed = try STUNMessage(parsing: bytes)
        #expect(Array(parsed.attributes.prefix(3)) == m.attributes)
        guard case .messageIntegrity(let mac) = parsed.attributes[3] else { Issue.record("no MI"); return }
        #expect(mac.count == 20)
        guard case .fingerprint = parsed.attributes[4] else { Issue.record("no FP"); return }
        try STUNMessageView.with(bytes) { v in
            #expect(v.hasValidIntegrity(key: key))
            #expect(v.hasValidFingerprint)
        }
    }

    @Test func messageTypeEncodesMethodAndClass() {
        #expect(STUNMessageType.bindingRequest.rawValue == 0x0001)
        #expect(STUNMessageType.bindingIndication.rawValue == 0x0011)
        #expect(STUNMessageType.bindingSuccess.rawValue == 0x0101)
        #expect(STUNMessageType.bindingError.rawValue == 0x0111)
        for raw in [UInt16(0x0001), 0x0011, 0x0101, 0x0111, 0x0003, 0x0113, 0x3EEF] {
            #expect(STUNMessageType(rawValue: raw).rawValue == raw)
        }
    }

    @Test func attributesAfterIntegrityOtherThanFingerprintAreIgnored() throws {
        let key = STUNIntegrity.shortTermKey(password: "p")
        var bytes = try STUNMessage(type: .bindingRequest, attributes: [.username("a:b")]).serialized(integrityKey: key)
        // Append SOFTWARE after MESSAGE-INTEGRITY and fix the length.
        bytes += [0x80, 0x22, 0, 4, 0x41, 0x42, 0x43, 0x44]
        bytes.setBE16(UInt16(bytes.count - 20), at: 2)
        let m = try STUNMessage(parsing: bytes)
        #expect(m.attribute(.software) == nil)
    }

    @Test func shortInputIsTruncated() {
        #expect(throws: STUNError.truncated) { try STUNMessage(parsing: [0, 1, 0, 0]) }
        var header = RFC5769.request
        header.removeLast(8)
        #expect(throws: STUNError.truncated) { try STUNMessage(parsing: header) }
    }

    @Test func wrongMagicCookieIsRefused() {
        var b = RFC5769.request
        b[4] = 0
        #expect(throws: STUNError.badMagicCookie) { try STUNMessage(parsing: b) }
    }

    @Test func topBitsSetIsNotSTUN() {
        var b = RFC5769.request
        b[0] = 0x80
        #expect(throws: STUNError.notSTUN) { try STUNMessage(parsing: b) }
    }

    @Test func lengthNotMultipleOfFourIsRefused() {
        var b = RFC5769.request
        b[3] = 0x57
        #expect(throws: STUNError.badLength) { try STUNMessage(parsing: b) }
    }

    @Test func attributeOverrunningTheMessageIsRefused() {
        var b = RFC5769.request
        b[22] = 0x01  // SOFTWARE length 0x0110
        #expect(throws: STUNError.attributeOverrun(type: 0x8022)) { try STUNMessage(parsing: b) }
    }

    @Test func corruptedFingerprintIsRefused() {
        var b = RFC5769.request
        b[b.count - 1] ^= 1
        #expect(throws: STUNError.badFingerprint) { try STUNMessage(parsing: b) }
    }

    @Test func fingerprintNotLastIsRefused() {
        var b = RFC5769.request + [0x80, 0x22, 0, 0]
        b.setBE16(UInt16(b.count - 20), at: 2)
        #expect(throws: STUNError.badFingerprint) { try STUNMessage(parsing: b) }
    }

    @Test func malformedValuesAreRefused() {
        let tid = STUNTransactionID.random()
        func decode(_ t: UInt16, _ v: [UInt8]) throws(STUNError) {
            let r: Result<STUNAttribute, STUNError> = v.withUnsafeBytes { raw in
                Result { () throws(STUNError) in try STUNAttribute(type: t, value: raw, transactionID: tid) }
            }
            _ = try r.get()
        }
        #expect(throws: STUNError.malformedAttribute(type: 0x0024)) { try decode(0x0024, [1, 2, 3]) }
        #expect(throws: STUNError.malformedAttribute(type: 0x0025)) { try decode(0x0025, [1]) }
        #expect(throws: STUNError.malformedAttribute(type: 0x802A)) { try decode(0x802A, [1, 2, 3, 4]) }
        #expect(throws: STUNError.malformedAttribute(type: 0x0020)) { try decode(0x0020, [0, 3, 0, 0, 1, 2, 3, 4]) }
        #expect(throws: STUNError.malformedAttribute(type: 0x0020)) { try decode(0x0020, [0, 1, 0, 0, 1, 2]) }
        #expect(throws: STUNError.malformedAttribute(type: 0x0009)) { try decode(0x0009, [0, 0, 9, 1]) }
        #expect(throws: STUNError.malformedAttribute(type: 0x0006)) { try decode(0x0006, Array(repeating: 0x41, count: 600)) }
    }

    @Test func randomGarbageNeverCrashesTheParser() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            var b = RFC5769.request
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            if Bool.random(using: &rng) { b.removeLast(Int.random(in: 0..<b.count, using: &rng)) }
            _ = try? STUNMessage(parsing: b)
        }
    }
}
