import Testing
@testable import ICE

/// RFC 7983 demultiplexing and routing by ufrag and 5-tuple, with a recording sink.
@Suite struct MediaTransportRouterTests {
    static let server = TransportAddress(ip: "198.51.100.1", port: 7882)!
    static let peer = FiveTuple(remote: TransportAddress(ip: "192.0.2.10", port: 50000)!, local: server)
    static let stranger = FiveTuple(remote: TransportAddress(ip: "192.0.2.66", port: 666)!, local: server)
    let credentials = ICECredentials(ufrag: "rtrU", password: "router-password-012345678")
    let t0 = ContinuousClock.now

    func receive(_ router: MediaTransportRouter, _ bytes: [UInt8], from path: FiveTuple, at offset: Duration = .zero) {
        bytes.withUnsafeBytes { router.receive($0, from: path, now: t0 + offset) }
    }

    @Test func firstByteClassifiesPerRFC7983() {
        func kind(_ b: [UInt8]) -> MediaPacketKind { b.withUnsafeBytes { PacketDemux.classify($0) } }
        #expect(kind([0x00, 0x01]) == .stun)
        #expect(kind([0x03]) == .stun)
        #expect(kind([0x10]) == .unknown)  // ZRTP
        #expect(kind([0x16, 0xfe, 0xfd]) == .dtls)
        #expect(kind([63]) == .dtls)
        #expect(kind([0x40]) == .unknown)  // TURN channel
        #expect(kind([0x80, 0x6f]) == .rtp)
        #expect(kind([0x80, 0xc8]) == .rtcp)  // SR
        #expect(kind([0x81, 0xcd]) == .rtcp)  // RTPFB
        #expect(kind([0x80, 0xe0]) == .rtp)   // PT 96 with marker
        #expect(kind([0xC0]) == .unknown)
        #expect(kind([]) == .unknown)
    }

    @Test func stunIsAnsweredAndMediaFromTheValidatedPathIsDelivered() throws {
        let sink = RecordingSink()
        let router = MediaTransportRouter(sink: sink)
        let handler = RecordingHandler()
        let id = router.addTransport(local: credentials, handler: handler, now: t0)!
        receive(router, bindingRequest(ufrag: credentials.ufrag, password: credentials.password), from: Self.peer)
        #expect(sink.sent.count == 1)
        #expect(sink.sent[0].to == Self.peer)
        #expect(try STUNMessage(parsing: sink.sent[0].bytes).type == .bindingSuccess)
        #expect(handler.snapshot.selections == [ICESelectionChange(previous: nil, current: Self.peer)])

        receive(router, [0x16, 0xfe, 0xfd, 0, 0], from: Self.peer)
        receive(router, [0x80, 0x60, 0, 1], from: Self.peer)
        receive(router, [0x80, 0xc9, 0, 1], from: Self.peer)
        #expect(handler.snapshot.received.map(\.kind) == [.dtls, .rtp, .rtcp])
        #expect(router.selectedPath(of: id) == Self.peer)

        let out: [UInt8] = [0x80, 0x60, 0, 2]
        #expect(out.withUnsafeBytes { router.send($0, on: id) })
        #expect(sink.sent.last?.to == Self.peer)
    }

    @Test func mediaFromAnUnvalidatedFiveTupleIsDroppedWithoutState() {
        let sink = RecordingSink()
        let router = MediaTransportRouter(sink: sink)
        let handler = RecordingHandler()
        _ = router.addTransport(local: credentials, handler: handler, now: t0)
        receive(router, bindingRequest(ufrag: credentials.ufrag, password: credentials.password), from: Self.peer)
        receive(router, [0x16, 0xfe, 0xfd, 0, 0], from: Self.stranger)
        receive(router, [0x80, 0x60, 0, 1], from: Self.stranger)
        #expect(handler.snapshot.received.isEmpty)
        #expect(router.counters.mediaFromUnknownPath == 2)
        #expect(router.agent.transport(for: Self.stranger) == nil)
        #expect(sink.sent.count == 1)  // only the STUN answer to the peer
    }

    @Test func wrongPasswordFromAStrangerIsAnsweredWith401AndChangesNothing() throws {
        let sink = RecordingSink()
        let router = MediaTransportRouter(sink: sink)
        let handler = RecordingHandler()
        let id = router.addTransport(local: credentials, handler: handler, now: t0)!
        receive(router, bindingRequest(ufrag: credentials.ufrag, password: credentials.password), from: Self.peer)
        receive(router, bindingRequest(ufrag: credentials.ufrag, password: "guessed-password-000000000"), from: Self.stranger)
        #expect(router.selectedPath(of: id) == Self.peer)
        #expect(handler.snapshot.selections.count == 1)
        #expect(try STUNMessage(parsing: sink.sent[1].bytes).attribute(.errorCode) == .errorCode(code: 401, reason: "Unauthenticated"))
        #expect(router.counters.stunErrors == 1)
    }

    @Test func consentExpiryClosesTheTransportAndTellsTheHandler() {
        let router = MediaTransportRouter(sink: RecordingSink())
        let handler = RecordingHandler()
        let id = router.addTransport(local: credentials, handler: handler, now: t0)!
        receive(router, bindingRequest(ufrag: credentials.ufrag, password: credentials.password), from: Self.peer, at: .seconds(1))
        router.expireConsent(now: t0 + .seconds(30))
        #expect(handler.snapshot.closed.isEmpty)
        router.expireConsent(now: t0 + .seconds(31))
        #expect(handler.snapshot.closed == [.consentExpired])
        #expect(router.selectedPath(of: id) == nil)
        receive(router, [0x80, 0x60, 0, 1], from: Self.peer, at: .seconds(32))
        #expect(handler.snapshot.received.isEmpty)
    }

    @Test func removingATransportTellsTheHandler() {
        let router = MediaTransportRouter(sink: RecordingSink())
        let handler = RecordingHandler()
        let id = router.addTransport(local: credentials, handler: handler, now: t0)!
        router.removeTransport(id)
        #expect(handler.snapshot.closed == [.removed])
    }

    @Test func ufragRoutesChecksToTheirOwnTransport() {
        let router = MediaTransportRouter(sink: RecordingSink())
        let a = RecordingHandler()
        let b = RecordingHandler()
        let other = ICECredentials(ufrag: "othr", password: "other-password-0123456789")
        _ = router.addTransport(local: credentials, handler: a, now: t0)
        _ = router.addTransport(local: other, handler: b, now: t0)
        receive(router, bindingRequest(ufrag: other.ufrag, password: other.password), from: Self.peer)
        #expect(a.snapshot.selections.isEmpty)
        #expect(b.snapshot.selections.count == 1)
        // Same password for the wrong ufrag: refused.
        receive(router, bindingRequest(ufrag: credentials.ufrag, password: other.password), from: Self.stranger)
        #expect(a.snapshot.selections.isEmpty)
    }
}
