/// The one place every datagram of the shared media port goes through (docs/architecture.md,
/// "The path of an RTP packet"): RFC 7983 demultiplexing first, then STUN to the ICE-lite agent (which finds the
/// transport by USERNAME ufrag) and DTLS/RTP/RTCP to the transport that validated the 5-tuple.
///
/// Confined to the media I/O thread that owns the socket: it is a class so handlers can be
/// given a reference for sending, but it is not `Sendable` and takes no locks. Other threads
/// reach it through `MediaIOThread.execute`.
public final class MediaTransportRouter {
    public private(set) var agent: ICELiteAgent
    public private(set) var counters = MediaRouterCounters()
    private var handlers: [ICETransportID: any MediaTransportHandler] = [:]
    private let sink: any DatagramSink
    /// Reused for every STUN response.
    private var stunOut: [UInt8]

    public init(agent: ICELiteAgent = ICELiteAgent(), sink: any DatagramSink) {
        self.agent = agent
        self.sink = sink
        self.stunOut = []
        self.stunOut.reserveCapacity(512)
    }

    // MARK: transports

    /// Registers a transport whose peer will check with `local` credentials (Parley's
    /// `a=ice-ufrag`/`a=ice-pwd`). Returns nil if the ufrag is taken.
    public func addTransport(local: ICECredentials, remoteUfrag: String? = nil, handler: any MediaTransportHandler,
                             now: ContinuousClock.Instant = .now) -> ICETransportID? {
        guard let id = agent.addTransport(local: local, remoteUfrag: remoteUfrag, now: now) else { return nil }
        handlers[id] = handler
        return id
    }

    public func setRemoteUfrag(_ ufrag: String?, for id: ICETransportID) {
        agent.setRemoteUfrag(ufrag, for: id)
    }

    /// Forgets a transport; its handler is told `.removed`.
    public func removeTransport(_ id: ICETransportID) {
        agent.removeTransport(id)
        handlers.removeValue(forKey: id)?.mediaTransportClosed(id, reason: .removed)
    }

    public func selectedPath(of id: ICETransportID) -> FiveTuple? { agent.selectedPath(of: id) }

    // MARK: receive

    /// Handles one datagram (or one ICE-TCP frame) received on `path` at `now`.
    public func receive(_ packet: UnsafeRawBufferPointer, from path: FiveTuple, now: ContinuousClock.Instant) {
        let kind = PacketDemux.classify(packet)
        switch kind {
        case .stun:
            let action = agent.handleSTUN(packet, from: path, now: now, response: &stunOut)
            switch action {
            case .drop(let reason):
                counters.stunDropped += 1
                if case .unknownUsername = reason { counters.checkFailures += 1 }
            case .sendError(let to, let code):
                counters.stunErrors += 1
                // 400: no MESSAGE-INTEGRITY; 401: it or the remote ufrag is wrong. A 487 role
                // conflict or a 420 is answered to an authenticated peer: not a failed check.
                if code == 400 || code == 401 { counters.checkFailures += 1 }
                stunOut.withUnsafeBytes { sink.send($0, to: to) }
            case .sendSuccess(let to, let id, let selection):
                counters.stunSuccess += 1
                stunOut.withUnsafeBytes { sink.send($0, to: to) }
                if let selection, let handler = handlers[id] {
                    handler.mediaTransport(id, selected: selection.current, previous: selection.previous, router: self)
                }
            }
        case .dtls, .rtp, .rtcp:
            guard let id = agent.transport(for: path), let handler = handlers[id] else {
                counters.mediaFromUnknownPath += 1
                return
            }
            counters.mediaDelivered += 1
            handler.mediaTransport(id, received: packet, kind: kind, from: path, router: self)
        case .unknown:
            counters.unknownKind += 1
        }
    }

    // MARK: send

    /// Sends one datagram to a 5-tuple (UDP, or framed on the ICE-TCP connection).
    @inline(__always)
    public func send(_ packet: UnsafeRawBufferPointer, to path: FiveTuple) {
        sink.send(packet, to: path)
    }

    /// Sends on the transport's selected path; false if none is selected yet.
    @discardableResult
    public func send(_ packet: UnsafeRawBufferPointer, on id: ICETransportID) -> Bool {
        guard let path = agent.selectedPath(of: id) else { return false }
        sink.send(packet, to: path)
        return true
    }

    // MARK: time

    /// Closes transports whose consent lapsed (RFC 7675) and tells their handlers.
    public func expireConsent(now: ContinuousClock.Instant) {
        for id in agent.expireConsent(now: now) {
            counters.transportsClosedByConsent += 1
            handlers.removeValue(forKey: id)?.mediaTransportClosed(id, reason: .consentExpired)
        }
    }
}
