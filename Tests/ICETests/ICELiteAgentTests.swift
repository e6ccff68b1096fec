import Crypto
import Testing
@testable import ICE

/// The ICE-lite rules (RFC 8445 §7.3, §8.2; RFC 7675), one behaviour per test, with an injected
/// clock: no sockets, no sleeps.
@Suite struct ICELiteAgentTests {
    static let server = TransportAddress(ip: "198.51.100.1", port: 7882)!
    static let phoneWifi = FiveTuple(remote: TransportAddress(ip: "192.0.2.10", port: 50000)!, local: server)
    static let phoneLTE = FiveTuple(remote: TransportAddress(ip: "203.0.113.99", port: 41000)!, local: server)

    let t0 = ContinuousClock.now
    let local = ICECredentials(ufrag: "srvU", password: "server-password-0123456789")
    let remoteUfrag = "peer"

    /// A check as a controlling full agent would send it (RFC 8445 §7.2.2).
    func check(username: String? = nil, password: String? = nil, useCandidate: Bool = false,
               controlled: Bool = false, extra: [STUNAttribute] = [], integrity: Bool = true,
               fingerprint: Bool = true) -> [UInt8] {
        var attributes: [STUNAttribute] = [
            .username(username ?? "\(local.ufrag):\(remoteUfrag)"), .priority(0x6e00_01ff),
            controlled ? .iceControlled(tieBreaker: 7) : .iceControlling(tieBreaker: 7),
        ]
        if useCandidate { attributes.append(.useCandidate) }
        attributes += extra
        let key = integrity ? STUNIntegrity.shortTermKey(password: password ?? local.password) : nil
        return try! STUNMessage(type: .bindingRequest, attributes: attributes)
            .serialized(integrityKey: key, fingerprint: fingerprint)
    }

    func agentWithTransport() -> (ICELiteAgent, ICETransportID) {
        var agent = ICELiteAgent()
        let id = agent.addTransport(local: local, remoteUfrag: remoteUfrag, now: t0)!
        return (agent, id)
    }

    func send(_ agent: inout ICELiteAgent, _ bytes: [UInt8], from path: FiveTuple, at offset: Duration = .zero,
              response: inout [UInt8]) -> ICEAgentAction {
        bytes.withUnsafeBytes { agent.handleSTUN($0, from: path, now: t0 + offset, response: &response) }
    }

    func send(_ agent: inout ICELiteAgent, _ bytes: [UInt8], from path: FiveTuple, at offset: Duration = .zero) -> ICEAgentAction {
        var response: [UInt8] = []
        return send(&agent, bytes, from: path, at: offset, response: &response)
    }

    // MARK: answering

    @Test func validCheckGetsSignedSuccessWithTheSourceAddress() throws {
        var (agent, id) = agentWithTransport()
        var response: [UInt8] = []
        let request = check()
        let action = send(&agent, request, from: Self.phoneWifi, response: &response)
        #expect(action == .sendSuccess(to: Self.phoneWifi, transport: id, selection: nil))
        let m = try STUNMessage(parsing: response)
        #expect(m.type == .bindingSuccess)
        #expect(m.transactionID == (try STUNMessage(parsing: request)).transactionID)
        #expect(m.attribute(.xorMappedAddress) == .xorMappedAddress(Self.phoneWifi.remote))
        try STUNMessageView.with(response) { v in
            #expect(v.hasValidIntegrity(key: local.key))
            #expect(v.hasValidFingerprint)
        }
        #expect(agent.transport(for: Self.phoneWifi) == id)
        #expect(agent.selectedPath(of: id) == nil)
    }

    @Test func useCandidateNominatesTheCheckFiveTuple() {
        var (agent, id) = agentWithTransport()
        let action = send(&agent, check(useCandidate: true), from: Self.phoneWifi)
        #expect(action == .sendSuccess(to: Self.phoneWifi, transport: id,
                                       selection: ICESelectionChange(previous: nil, current: Self.phoneWifi)))
        #expect(agent.selectedPath(of: id) == Self.phoneWifi)
    }

    @Test func repeatedNominationOfTheSamePathReportsNoChange() {
        var (agent, id) = agentWithTransport()
        _ = send(&agent, check(useCandidate: true), from: Self.phoneWifi)
        let again = send(&agent, check(useCandidate: true), from: Self.phoneWifi, at: .seconds(2))
        #expect(again == .sendSuccess(to: Self.phoneWifi, transport: id, selection: nil))
    }

    @Test func useCandidateFromANewFiveTupleMovesMedia() {
        var (agent, id) = agentWithTransport()
        _ = send(&agent, check(useCandidate: true), from: Self.phoneWifi)
        let moved = send(&agent, check(useCandidate: true), from: Self.phoneLTE, at: .seconds(1))
        #expect(moved == .sendSuccess(to: Self.phoneLTE, transport: id,
                                      selection: ICESelectionChange(previous: Self.phoneWifi, current: Self.phoneLTE)))
        #expect(agent.selectedPath(of: id) == Self.phoneLTE)
    }

    @Test func validCheckFromNewFiveTupleMovesMediaWhenTheSelectedPathWentSilent() {
        var (agent, id) = agentWithTransport()
        _ = send(&agent, check(useCandidate: true), from: Self.phoneWifi)
        // Wi-Fi is gone: the next check comes from LTE 7 s later, without USE-CANDIDATE.
        let moved = send(&agent, check(), from: Self.phoneLTE, at: .seconds(7))
        #expect(moved == .sendSuccess(to: Self.phoneLTE, transport: id,
                                      selection: ICESelectionChange(previous: Self.phoneWifi, current: Self.phoneLTE)))
        #expect(agent.selectedPath(of: id) == Self.phoneLTE)
    }

    @Test func checkOnAnotherPathDoesNotStealALiveSelection() {
        var (agent, id) = agentWithTransport()
        _ = send(&agent, check(useCandidate: true), from: Self.phoneWifi)
        _ = send(&agent, check(), from: Self.phoneWifi, at: .seconds(2))
        let other = send(&agent, check(), from: Self.phoneLTE, at: .seconds(3))
        #expect(other == .sendSuccess(to: Self.phoneLTE, transport: id, selection: nil))
        #expect(agent.selectedPath(of: id) == Self.phoneWifi)
        #expect(agent.transport(for: Self.phoneLTE) == id)  // validated, may carry DTLS
    }

    @Test func ipv6PathIsAnsweredWithAnIPv6MappedAddress() throws {
        var (agent, id) = agentWithTransport()
        let v6 = FiveTuple(remote: TransportAddress(ip: "2001:db8::5", port: 6000)!, local: TransportAddress(ip: "2001:db8::1", port: 7882)!)
        var response: [UInt8] = []
        #expect(send(&agent, check(useCandidate: true), from: v6, response: &response)
                == .sendSuccess(to: v6, transport: id, selection: ICESelectionChange(previous: nil, current: v6)))
        #expect(try STUNMessage(parsing: response).attribute(.xorMappedAddress) == .xorMappedAddress(v6.remote))
    }

    // MARK: rejections: no state, no allocation

    @Test func wrongPasswordChangesNothing() throws {
        var (agent, id) = agentWithTransport()
        _ = send(&agent, check(useCandidate: true), from: Self.phoneWifi)
        let deadline = agent.consentDeadline(of: id)
        var response: [UInt8] = []
        let action = send(&agent, check(password: "not-the-password-at-all", useCandidate: true),
                          from: Self.phoneLTE, at: .seconds(20), response: &response)
        #expect(action == .sendError(to: Self.phoneLTE, code: 401))
        #expect(agent.selectedPath(of: id) == Self.phoneWifi)
        #expect(agent.transport(for: Self.phoneLTE) == nil)
        #expect(agent.validatedPaths(of: id) == [Self.phoneWifi])
        #expect(agent.consentDeadline(of: id) == deadline)
        let error = try STUNMessage(parsing: response)
        #expect(error.type == .bindingError)
        #expect(error.attribute(.errorCode) == .errorCode(code: 401, reason: "Unauthenticated"))
        #expect(error.attribute(.messageIntegrity) == nil)
    }

    @Test func wrongPasswordDoesNotRefreshConsent() {
        var (agent, id) = agentWithTransport()
        _ = send(&agent, check(useCandidate: true), from: Self.phoneWifi)
        for s in stride(from: 5, through: 29, by: 5) {
            _ = send(&agent, check(password: "nope-nope-nope-nope-nope"), from: Self.phoneWifi, at: .seconds(s))
        }
        #expect(agent.expireConsent(now: t0 + .seconds(30)) == [id])
    }

    @Test func unknownUfragIsDroppedSilently() {
        var (agent, _) = agentWithTransport()
        var response: [UInt8] = [0xAA]
        let action = send(&agent, check(username: "nobody:peer", useCandidate: true), from: Self.phoneWifi, response: &response)
        #expect(action == .drop(.unknownUsername))
        #expect(response == [0xAA])  // nothing written
        #expect(agent.transport(for: Self.phoneWifi) == nil)
    }

    @Test func overlongUfragIsDroppedBeforeAnyLookup() {
        var (agent, _) = agentWithTransport()
        let long = String(repeating: "x", count: 400)
        #expect(send(&agent, check(username: "\(long):peer"), from: Self.phoneWifi) == .drop(.unknownUsername))
        #expect(agent.transport(for: Self.phoneWifi) == nil)
    }

    @Test func localUfragsMustBeShortICEStrings() {
        var agent = ICELiteAgent()
        #expect(agent.addTransport(local: ICECredentials(ufrag: "abc", password: local.password), now: t0) == nil)
        #expect(agent.addTransport(local: ICECredentials(ufrag: "a:bcd", password: local.password), now: t0) == nil)
        #expect(agent.addTransport(local: ICECredentials(ufrag: String(repeating: "a", count: 16), password: local.password), now: t0) == nil)
        #expect(agent.addTransport(local: ICECredentials(ufrag: String(repeating: "a", count: 15), password: local.password), now: t0) != nil)
    }

    @Test func wrongRemoteUfragIsRefused() {
        var (agent, id) = agentWithTransport()
        let action = send(&agent, check(username: "\(local.ufrag):someoneElse", useCandidate: true), from: Self.phoneWifi)
        #expect(action == .sendError(to: Self.phoneWifi, code: 401))
        #expect(agent.selectedPath(of: id) == nil)
        #expect(agent.transport(for: Self.phoneWifi) == nil)
    }

    @Test func requestWithoutUsernameFromNowhereIsDropped() throws {
        var (agent, _) = agentWithTransport()
        let bare = try STUNMessage(type: .bindingRequest).serialized(fingerprint: true)
        #expect(send(&agent, bare, from: Self.phoneWifi) == .drop(.unknownUsername))
        #expect(agent.transport(for: Self.phoneWifi) == nil)
    }

    @Test func requestWithoutIntegrityGets400AndNoState() {
        var (agent, id) = agentWithTransport()
        #expect(send(&agent, check(useCandidate: true, integrity: false), from: Self.phoneWifi)
                == .sendError(to: Self.phoneWifi, code: 400))
        #expect(agent.selectedPath(of: id) == nil)
        #expect(agent.transport(for: Self.phoneWifi) == nil)
    }

    @Test func corruptedFingerprintIsDropped() {
        var (agent, _) = agentWithTransport()
        var b = check(useCandidate: true)
        b[b.count - 1] ^= 0xFF
        #expect(send(&agent, b, from: Self.phoneWifi) == .drop(.badFingerprint))
        #expect(agent.transport(for: Self.phoneWifi) == nil)
    }

    @Test func garbageIsDroppedAsMalformed() {
        var (agent, _) = agentWithTransport()
        #expect(send(&agent, [0, 1, 0, 0, 1, 2], from: Self.phoneWifi) == .drop(.malformed(.truncated)))
    }

    @Test func indicationsAndResponsesGetNoAnswer() throws {
        var (agent, _) = agentWithTransport()
        let indication = try STUNMessage(type: .bindingIndication).serialized(fingerprint: true)
        #expect(send(&agent, indication, from: Self.phoneWifi) == .drop(.notBindingRequest))
        #expect(send(&agent, RFC5769.ipv4Response, from: Self.phoneWifi) == .drop(.notBindingRequest))
    }

    @Test func unknownComprehensionRequiredAttributeGets420() throws {
        var (agent, id) = agentWithTransport()
        var response: [UInt8] = []
        let action = send(&agent, check(useCandidate: true, extra: [.other(type: 0x0031, value: [1, 2, 3, 4])]),
                          from: Self.phoneWifi, response: &response)
        #expect(action == .sendError(to: Self.phoneWifi, code: 420))
        let error = try STUNMessage(parsing: response)
        #expect(error.attribute(.errorCode) == .errorCode(code: 420, reason: "Unknown Attribute"))
        #expect(error.attribute(.unknownAttributes) == .unknownAttributes([0x0031]))
        try STUNMessageView.with(response) { v in #expect(v.hasValidIntegrity(key: local.key)) }
        #expect(agent.selectedPath(of: id) == nil)
    }

    @Test func unknownComprehensionOptionalAttributeIsIgnored() {
        var (agent, id) = agentWithTransport()
        let action = send(&agent, check(useCandidate: true, extra: [.other(type: 0xC057, value: [0, 1, 0, 0])]), from: Self.phoneWifi)
        #expect(action == .sendSuccess(to: Self.phoneWifi, transport: id,
                                       selection: ICESelectionChange(previous: nil, current: Self.phoneWifi)))
    }

    @Test func peerClaimingControlledGetsRoleConflict() {
        var (agent, id) = agentWithTransport()
        #expect(send(&agent, check(useCandidate: true, controlled: true), from: Self.phoneWifi)
                == .sendError(to: Self.phoneWifi, code: 487))
        #expect(agent.selectedPath(of: id) == nil)
    }

    @Test func validatedPathsAreBounded() {
        var (agent, id) = agentWithTransport()
        for port in UInt16(1000)..<1020 {
            let p = FiveTuple(remote: TransportAddress(ip: "192.0.2.10", port: port)!, local: Self.server)
            _ = send(&agent, check(), from: p, at: .milliseconds(Int(port)))
        }
        #expect(agent.validatedPaths(of: id).count == agent.configuration.maxPathsPerTransport)
        let oldest = FiveTuple(remote: TransportAddress(ip: "192.0.2.10", port: 1000)!, local: Self.server)
        #expect(agent.transport(for: oldest) == nil)
    }

    // MARK: consent (RFC 7675)

    @Test func transportWithoutValidCheckFor30SecondsIsClosed() {
        var (agent, id) = agentWithTransport()
        _ = send(&agent, check(useCandidate: true), from: Self.phoneWifi, at: .seconds(1))
        #expect(agent.expireConsent(now: t0 + .seconds(30)).isEmpty)
        #expect(agent.expireConsent(now: t0 + .seconds(31)) == [id])
        #expect(!agent.contains(id))
        #expect(agent.transport(for: Self.phoneWifi) == nil)
    }

    @Test func validChecksKeepConsentAlive() {
        var (agent, id) = agentWithTransport()
        for s in stride(from: 0, through: 120, by: 5) {
            _ = send(&agent, check(), from: Self.phoneWifi, at: .seconds(s))
            #expect(agent.expireConsent(now: t0 + .seconds(s) + .seconds(4)).isEmpty)
        }
        #expect(agent.contains(id))
    }

    @Test func transportNeverCheckedIsClosedAfter30Seconds() {
        var (agent, id) = agentWithTransport()
        #expect(agent.nextConsentDeadline == t0 + .seconds(30))
        #expect(agent.expireConsent(now: t0 + .seconds(30)) == [id])
    }

    // MARK: bookkeeping

    @Test func duplicateUfragIsRefused() {
        var (agent, _) = agentWithTransport()
        #expect(agent.addTransport(local: local, now: t0) == nil)
    }

    @Test func removedTransportForgetsItsPaths() {
        var (agent, id) = agentWithTransport()
        _ = send(&agent, check(useCandidate: true), from: Self.phoneWifi)
        agent.removeTransport(id)
        #expect(agent.transport(for: Self.phoneWifi) == nil)
        #expect(send(&agent, check(), from: Self.phoneWifi) == .drop(.unknownUsername))
    }

    @Test func remoteUfragUnknownAcceptsAnyPeerUfrag() {
        var agent = ICELiteAgent()
        let id = agent.addTransport(local: local, now: t0)!
        #expect(send(&agent, check(username: "\(local.ufrag):whatever"), from: Self.phoneWifi)
                == .sendSuccess(to: Self.phoneWifi, transport: id, selection: nil))
    }

    @Test func randomCredentialsFollowRFC8839() {
        let c = ICECredentials.random()
        #expect(c.ufrag.count == 8 && c.password.count == 24)
        let allowed = Set(ICECredentials.iceChars)
        #expect((c.ufrag + c.password).allSatisfy { allowed.contains($0) })
        #expect(ICECredentials.random() != c)
    }
}
