import Crypto

/// Parley's ICE agent: the lite implementation of RFC 8445 (§2.5, §6.1.1, §7.3, §8.2) for a
/// server with one public address. It sends no checks of its own and is always the controlled
/// agent; it answers the peer's Binding requests, records the 5-tuples they validate, lets the
/// peer's USE-CANDIDATE pick the one that carries media, and closes a transport whose consent
/// lapses (RFC 7675).
///
/// It is a pure state machine, in the manner of postgres-nio's connection state machine:
/// `handleSTUN` takes a received datagram, its 5-tuple and the current time and returns an
/// `ICEAgentAction`; responses are written into a buffer the caller reuses. No I/O, no locks,
/// no clock reads, so consent tests need no sleeps.
///
/// Security rules (each has a test): a request with a bad MESSAGE-INTEGRITY, a USERNAME that
/// names no transport, or no credentials at all changes no state and allocates nothing.
public struct ICELiteAgent {
    public struct Configuration: Sendable {
        /// RFC 7675 §5.1 consent timeout.
        public var consentTimeout: Duration = ConsentTimer.defaultTimeout
        /// How long the selected path must have been silent before a valid check from another
        /// 5-tuple (without USE-CANDIDATE) moves media to it. Browsers check the selected pair
        /// every 2.5 s or faster, so 6 s is two missed checks and more.
        public var moveAfterSilence: Duration = .seconds(6)
        /// Validated 5-tuples remembered per transport (peer host/srflx/relay, IPv4/IPv6, UDP/TCP).
        public var maxPathsPerTransport: Int = 8

        public init() {}
    }

    /// The longest local ufrag accepted: 15 UTF-8 bytes fit in a small (inline) String.
    public static let maxLocalUfragBytes = 15

    public var configuration: Configuration
    private var transports: [ICETransportID: ICETransportState] = [:]
    private var byUfrag: [String: ICETransportID] = [:]
    private var byPath: [FiveTuple: ICETransportID] = [:]
    private var nextID: UInt32 = 1
    /// Reused for the length-patched copy MESSAGE-INTEGRITY is computed over.
    private var integrityScratch: [UInt8] = []

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.integrityScratch.reserveCapacity(1500)
    }

    // MARK: transports

    /// Adds a transport with its local credentials (announced in Parley's SDP) and, when known,
    /// the peer's ufrag (from its SDP); checks with another remote ufrag are refused.
    /// Returns nil if the local ufrag is already in use or is not 4 to 15 ice-chars
    /// (`maxLocalUfragBytes`: short enough to be an inline String, so looking one up never
    /// allocates; `ICECredentials.random()` makes 8).
    public mutating func addTransport(local: ICECredentials, remoteUfrag: String? = nil,
                                      now: ContinuousClock.Instant) -> ICETransportID? {
        guard byUfrag[local.ufrag] == nil, (4...Self.maxLocalUfragBytes).contains(local.ufrag.utf8.count),
              !local.ufrag.utf8.contains(0x3A)
        else { return nil }
        let id = ICETransportID(rawValue: nextID)
        nextID &+= 1
        transports[id] = ICETransportState(
            id: id, local: local, remoteUfrag: remoteUfrag, consentTimeout: configuration.consentTimeout,
            maxPaths: configuration.maxPathsPerTransport, now: now)
        byUfrag[local.ufrag] = id
        return id
    }

    /// Sets the peer's ufrag once its SDP is known.
    public mutating func setRemoteUfrag(_ ufrag: String?, for id: ICETransportID) {
        transports[id]?.remoteUfrag = ufrag
    }

    /// Forgets a transport and every path it had.
    public mutating func removeTransport(_ id: ICETransportID) {
        guard let state = transports.removeValue(forKey: id) else { return }
        byUfrag[state.local.ufrag] = nil
        for p in state.paths { byPath[p.tuple] = nil }
    }

    public var transportCount: Int { transports.count }
    public func contains(_ id: ICETransportID) -> Bool { transports[id] != nil }

    /// The transport a validated 5-tuple belongs to: how DTLS, RTP and RTCP find their
    /// transport. A 5-tuple no valid check came from belongs to none.
    @inline(__always)
    public func transport(for path: FiveTuple) -> ICETransportID? { byPath[path] }

    /// The 5-tuple that carries media (nominated or moved), if any.
    public func selectedPath(of id: ICETransportID) -> FiveTuple? { transports[id]?.selected }

    /// The 5-tuples validated for a transport.
    public func validatedPaths(of id: ICETransportID) -> [FiveTuple] { transports[id]?.paths.map(\.tuple) ?? [] }

    /// When consent of `id` expires unless a valid check arrives first.
    public func consentDeadline(of id: ICETransportID) -> ContinuousClock.Instant? { transports[id]?.consent.deadline }

    // MARK: input

    /// Handles one received STUN message (RFC 7983 first byte 0-3) from `path` at `now`.
    /// Any response is written into `response` (its old contents replaced, capacity kept).
    public mutating func handleSTUN(_ packet: UnsafeRawBufferPointer, from path: FiveTuple,
                                    now: ContinuousClock.Instant, response: inout [UInt8]) -> ICEAgentAction {
        let view: STUNMessageView
        do {
            view = try STUNMessageView(parsing: packet)
        } catch {
            return .drop(.malformed(error))
        }
        if view.fingerprintOffset != nil && !view.hasValidFingerprint { return .drop(.badFingerprint) }
        guard view.type == .bindingRequest else { return .drop(.notBindingRequest) }

        // USERNAME = "<our ufrag>:<their ufrag>" (RFC 8445 §7.2.2).
        guard let username = view.value(of: .username),
              let colon = username.firstIndex(of: 0x3A)
        else { return .drop(.unknownUsername) }
        // Longer than any ufrag we hand out: no transport, and no String (no allocation) made.
        guard colon <= Self.maxLocalUfragBytes else { return .drop(.unknownUsername) }
        let localUfrag = String(decoding: UnsafeRawBufferPointer(rebasing: username[..<colon]), as: UTF8.self)
        guard let id = byUfrag[localUfrag], let state = transports[id] else { return .drop(.unknownUsername) }
        let tid = view.transactionID

        // Authentication (RFC 8489 §9.1.3). Error responses to unauthenticated requests are not
        // signed; nothing is recorded.
        guard view.integrityOffset != nil else {
            STUNResponseWriter.bindingError(into: &response, transactionID: tid, code: 400, reason: "Bad Request", key: nil)
            return .sendError(to: path, code: 400)
        }
        guard view.hasValidIntegrity(key: state.key, scratch: &integrityScratch) else {
            STUNResponseWriter.bindingError(into: &response, transactionID: tid, code: 401, reason: "Unauthenticated", key: nil)
            return .sendError(to: path, code: 401)
        }
        if let remote = state.remoteUfrag {
            let theirs = UnsafeRawBufferPointer(rebasing: username[(colon + 1)...])
            guard theirs.elementsEqual(remote.utf8) else {
                STUNResponseWriter.bindingError(into: &response, transactionID: tid, code: 401, reason: "Unauthenticated", key: nil)
                return .sendError(to: path, code: 401)
            }
        }

        // Unknown comprehension-required attributes: 420 with UNKNOWN-ATTRIBUTES (RFC 8489 §6.3.1.1).
        if view.hasUnknownComprehensionRequired {
            var unknown: [UInt16] = []
            view.unknownComprehensionRequired(into: &unknown)
            STUNResponseWriter.bindingError(
                into: &response, transactionID: tid, code: 420, reason: "Unknown Attribute", unknown: unknown, key: state.key)
            return .sendError(to: path, code: 420)
        }

        // A lite agent is always controlled (RFC 8445 §6.1.1); a peer that also claims to be
        // controlled gets 487 and must switch to controlling (§7.3.1.1).
        if view.value(of: .iceControlled) != nil {
            STUNResponseWriter.bindingError(into: &response, transactionID: tid, code: 487, reason: "Role Conflict", key: state.key)
            return .sendError(to: path, code: 487)
        }

        // A valid check.
        let useCandidate = view.value(of: .useCandidate) != nil
        let (change, evicted) = transports[id]!.validCheck(
            from: path, useCandidate: useCandidate, now: now,
            moveAfter: configuration.moveAfterSilence, maxPaths: configuration.maxPathsPerTransport)
        if let evicted { byPath[evicted] = nil }
        if let previous = byPath.updateValue(id, forKey: path), previous != id {
            // The same 5-tuple now authenticates as another transport (an ICE restart reusing
            // the socket): it belongs to the newer one only.
            transports[previous]?.forget(path)
        }
        STUNResponseWriter.bindingSuccess(into: &response, transactionID: tid, mapped: path.remote, key: state.key)
        return .sendSuccess(to: path, transport: id, selection: change)
    }

    // MARK: time

    /// Closes every transport whose consent has expired at `now` and returns their IDs.
    /// Call it about once a second (`nextConsentDeadline` says when it next matters).
    public mutating func expireConsent(now: ContinuousClock.Instant) -> [ICETransportID] {
        var expired: [ICETransportID] = []
        for (id, state) in transports where state.consent.isExpired(now: now) {
            expired.append(id)
        }
        for id in expired { removeTransport(id) }
        return expired
    }

    /// The earliest consent deadline of any transport.
    public var nextConsentDeadline: ContinuousClock.Instant? {
        transports.values.lazy.map(\.consent.deadline).min()
    }
}

extension ICETransportState {
    mutating func forget(_ tuple: FiveTuple) {
        paths.removeAll { $0.tuple == tuple }
        if selected == tuple { selected = nil }
    }
}
