import ChatAPI
import DTLS
import Foundation
import Logging
import NIOCore
import SFU
import SDP

/// The call frames of `/ws` (docs/protocol.md "Calls"): turns them into changes of the call's
/// `CallRoom`, carries out the effects (frames to the others in the call, offers, `call.state`
/// to every member) and tells the media engine what to forward.
///
/// Call membership follows conversation membership and the login: a member removed from the
/// conversation (or leaving it), a login revoked, a lapsed media connection or a join of another
/// call ends the participant's part at once (`end(where:reason:server:)`), and its connection is
/// told why with `call.left`. Membership is also checked on every call frame, so a removed member
/// whose eviction is still on its way can do nothing more in the call.
public final class CallSignaling: Sendable {
    public let directory: CallDirectory
    let media: MediaServer
    let iceServers: IceServerConfiguration
    let maxParticipants: Int
    /// How many calls one user may be in at once, across its connections on this instance; nil: no limit.
    let maxCallsPerUser: Int?
    /// Sending sections per publish offer (`CALL_MAX_TRACKS`).
    let maxTracks: Int
    let clock: WallClock
    let events: AsyncStream<MediaEvent>
    /// Conversations whose call changed outside a request (an eviction from the bus's delivery,
    /// which cannot wait): their `call.state` is announced by `run`, in order.
    private let stateChanges: AsyncStream<String>.Continuation
    private let stateChangeStream: AsyncStream<String>

    /// - Parameters:
    ///   - events: what `media` reports (its `events` callback feeds this stream).
    ///   - maxCallsPerUser: `CALL_MAX_PER_USER`; nil for no limit.
    public init(directory: CallDirectory, media: MediaServer, events: AsyncStream<MediaEvent>, iceServers: IceServerConfiguration,
                maxParticipants: Int, maxCallsPerUser: Int? = 2, maxTracks: Int = SdpLimits.defaultMaxPublishTracks,
                clock: WallClock = .system) {
        self.directory = directory
        self.events = events
        self.media = media
        self.iceServers = iceServers
        self.maxParticipants = maxParticipants
        self.maxCallsPerUser = maxCallsPerUser
        self.maxTracks = maxTracks
        self.clock = clock
        (stateChangeStream, stateChanges) = AsyncStream<String>.makeStream()
    }

    // MARK: requests

    /// `call.join`. A connection is in one call at a time: joining another conversation's call
    /// leaves the first (`call.left` reason `replaced`), as does the same user's earlier
    /// connection in this call. Both limits (participants per call, calls per user) are checked
    /// before anything changes, so a refused join loses nothing.
    func join(_ conversationId: String, id: String?, caller: AuthContext, connection: Connection, server: SignalingServer) async throws {
        _ = try await server.services.conversations.requireMember(conversationId, caller)
        guard let user = try await server.services.users.find(id: caller.userId) else { throw APIError.unauthorized() }
        let local = media.localTransport(sessionId: UInt64.random(in: 1...UInt64(Int64.max)))
        let limit = maxParticipants, callsLimit = maxCallsPerUser
        let (callId, participant, others, effects, replaced) = try directory.state.withLock { state throws(CallError) in
            // The call this connection is in now, if another: it is left below.
            let current = state.participants.first { $0.value.connection.id == connection.id && $0.value.conversationId != conversationId }
            if let callsLimit {
                var calls = Set(state.participants.values.filter { $0.userId == caller.userId }.map(\.conversationId))
                calls.remove(conversationId)
                if let current { calls.remove(current.value.conversationId) }
                if calls.count >= callsLimit { throw CallError.tooManyCalls(limit: callsLimit) }
            }
            var room = state.rooms.removeValue(forKey: conversationId)
                ?? CallRoom(callId: UUID().uuidString.lowercased(), conversationId: conversationId)
            if room.participant(caller.userId) == nil, room.participants.count >= limit {
                if !room.isEmpty { state.rooms[conversationId] = room }
                throw CallError.callFull(limit: limit)
            }
            var replaced: [Ended] = []
            if let current, var old = state.rooms.removeValue(forKey: current.value.conversationId) {
                let effects = old.participant(caller.userId)?.id == current.key ? old.leave(userId: caller.userId) : []
                state.keep(old)
                if !effects.isEmpty {
                    replaced.append(Ended(conversationId: old.conversationId, callId: old.callId, connection: current.value.connection, effects: effects))
                }
            }
            // The same user from another connection: `CallRoom.join` makes it leave; its connection is told.
            if let previous = room.participant(caller.userId), let entry = state.participants[previous.id], entry.connection.id != connection.id {
                replaced.append(Ended(conversationId: conversationId, callId: room.callId, connection: entry.connection, effects: []))
            }
            let participant = ParticipantID(rawValue: state.nextParticipant)
            state.nextParticipant += 1
            let others = room.participants.filter { $0.userId != caller.userId }
            let effects = room.join(userId: caller.userId, displayName: user.displayName, id: participant, connectionId: connection.id,
                                    subscribe: local)
            state.rooms[conversationId] = room
            state.participants[participant] = (conversationId, caller.userId, connection)
            return (room.callId, participant, others, effects, replaced)
        }
        for ended in replaced {
            server.send(.make("call.left", CallFrames.Left(conversationId: ended.conversationId, reason: .replaced)), to: ended.connection)
            if ended.conversationId != conversationId { await perform(ended.effects, in: ended.conversationId, callId: ended.callId, server: server) }
        }
        let servers = iceServers.servers(for: caller.userId, now: Int(clock.now().milliseconds / 1000))
        server.send(.make("call.config", id: id, CallFrames.Config(conversationId: conversationId, callId: callId, iceServers: servers)),
                    to: connection)
        server.send(.make("call.participants", CallFrames.Participants(conversationId: conversationId, participants: others.map {
            CallFrames.Participant(userId: $0.userId, displayName: $0.displayName, tracks: $0.tracks.map { (track: CallTrack) in track.dto })
        })), to: connection)
        // Who is speaking now, so the new tile highlights do not wait for the next change.
        if let speakers = directory.state.withLock({ $0.speakers[conversationId] }), !speakers.isEmpty {
            server.send(.make("call.active-speaker", droppable: true,
                              CallFrames.ActiveSpeaker(conversationId: conversationId, speakers: speakers)), to: connection)
        }
        await perform(effects, in: conversationId, callId: callId, server: server)
        // A removal that committed after the check above had its bus event delivered before this
        // participant was in the room, so nothing ended it: one more check, now that it is.
        do {
            _ = try await server.services.conversations.requireMember(conversationId, caller)
        } catch let error as APIError where error.code == "not_found" {
            await end(where: { id, _ in id == participant }, reason: .removed, server: server)
        } catch {
            // The database did not answer: the join stands, as it would have a moment earlier.
        }
    }

    func publish(_ conversationId: String, sdp: String, tracks: [ClientFrame.PublishedSource], id: String?,
                 caller: AuthContext, connection: Connection, server: SignalingServer) async throws {
        _ = try await server.services.conversations.requireMember(conversationId, caller)
        var sources: [String: TrackSource] = [:]
        for entry in tracks {
            guard let source = TrackSource(rawValue: entry.source) else {
                throw APIError.invalidField("tracks", "source must be microphone, camera or screen.")
            }
            guard sources.updateValue(source, forKey: entry.mid) == nil else {
                throw APIError.invalidField("tracks", "mid '\(entry.mid.prefix(32))' is named twice.")
            }
        }
        let fresh = media.localTransport(sessionId: UInt64.random(in: 1...UInt64(Int64.max)))
        let maxTracks = self.maxTracks
        let (negotiation, effects, opening, participant, credentials, callId) = try directory.withRoom(conversationId) {
            room throws(CallError) in
            let opening = !room.hasPublishTransport(caller.userId)
            let (negotiation, effects) = try room.publish(userId: caller.userId, offer: sdp, sources: sources,
                                                          local: fresh, maxTracks: maxTracks)
            guard let participant = room.participant(caller.userId), let credentials = room.publishCredentials(caller.userId) else {
                throw CallError.notInCall
            }
            return (negotiation, effects, opening, participant, credentials, room.callId)
        }
        if opening {
            media.openTransport(participant: participant.id, callId: callId, role: .publish, credentials: credentials,
                                remote: negotiation.remote)
        } else {
            media.updateRemote(participant: participant.id, role: .publish, remote: negotiation.remote)
        }
        media.setPublishedTracks(participant: participant.id, participant.tracks.map {
            PublishTrackConfig(id: $0.id, media: $0.media, cname: "parley-\(caller.userId)")
        })
        server.send(.make("call.publish.answer", id: id, CallFrames.PublishAnswer(conversationId: conversationId, sdp: negotiation.answer)),
                    to: connection)
        await perform(effects, in: conversationId, callId: callId, server: server)
    }

    /// An unusable answer to the awaited offer gets its `error` (thrown, so the reader sends it
    /// with the frame's id) after the fresh offer `CallRoom` made in its place: the client
    /// answers that one and its subscribe connection recovers.
    func subscribeAnswer(_ conversationId: String, sdp: String, revision: Int, caller: AuthContext, server: SignalingServer) async throws {
        _ = try await server.services.conversations.requireMember(conversationId, caller)
        let (outcome, participant, callId) = try directory.withRoom(conversationId) { room throws(CallError) in
            guard let participant = room.participant(caller.userId) else { throw CallError.notInCall }
            return (try room.subscribeAnswer(userId: caller.userId, sdp: sdp, revision: revision), participant.id, room.callId)
        }
        if case .rejected(let error, let reoffer) = outcome {
            await perform(reoffer, in: conversationId, callId: callId, server: server)
            throw error
        }
        guard case .accepted(let answer, let downTracks, let effects) = outcome else { return }
        if let remote = answer.remote { media.updateRemote(participant: participant, role: .subscribe, remote: remote) }
        media.setDownTracks(participant: participant, downTracks)
        await perform(effects, in: conversationId, callId: callId, server: server)
    }

    func mute(_ conversationId: String, trackId: String, muted: Bool, caller: AuthContext, server: SignalingServer) async throws {
        _ = try await server.services.conversations.requireMember(conversationId, caller)
        let (effects, callId) = try directory.withRoom(conversationId) { room throws(CallError) in
            (try room.mute(userId: caller.userId, trackId: trackId, muted: muted), room.callId)
        }
        await perform(effects, in: conversationId, callId: callId, server: server)
    }

    func quality(_ conversationId: String, trackId: String, quality: String, caller: AuthContext, server: SignalingServer) async throws {
        _ = try await server.services.conversations.requireMember(conversationId, caller)
        guard let wish = SimulcastQuality(rawValue: quality) else {
            throw APIError.invalidField("quality", "quality must be high, medium, low or off.")
        }
        let (participant, track) = try directory.withRoom(conversationId) { room throws(CallError) in
            guard let participant = room.participant(caller.userId) else { throw CallError.notInCall }
            return (participant.id, try room.remoteTrack(trackId, for: caller.userId))
        }
        media.setQuality(participant: participant, track: track, quality: wish)
    }

    /// `call.candidate`: accepted and ignored. Parley is ICE-lite; the client's candidates reach
    /// it as the connectivity checks themselves (RFC 8445 §2.5).
    func candidate(_ conversationId: String, caller: AuthContext, server: SignalingServer) async throws {
        _ = try await server.services.conversations.requireMember(conversationId, caller)
        try directory.withRoom(conversationId) { room throws(CallError) in
            guard room.participant(caller.userId) != nil else { throw CallError.notInCall }
        }
    }

    func leave(_ conversationId: String, caller: AuthContext, server: SignalingServer) async throws {
        _ = try await server.services.conversations.requireMember(conversationId, caller)
        let (effects, callId) = try directory.withRoom(conversationId) { room throws(CallError) in
            guard room.participant(caller.userId) != nil else { throw CallError.notInCall }
            return (room.leave(userId: caller.userId), room.callId)
        }
        await perform(effects, in: conversationId, callId: callId, server: server)
    }

    /// A WebSocket closed: its participant leaves its call (no `call.left`: nobody is there to read it).
    func connectionClosed(_ connection: Connection, server: SignalingServer) async {
        await end(where: { _, entry in entry.connection.id == connection.id }, reason: nil, server: server)
    }

    /// The media engine's events (a lapsed or failed transport ends its participant's part in
    /// the call; active speakers go to the call) and the `call.state` of evictions made during
    /// the bus's delivery; until the server stops.
    func run(server: SignalingServer) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                for await conversationId in stateChangeStream { await announceState(conversationId, server: server) }
            }
            group.addTask { [self] in await handleMediaEvents(server: server) }
            await group.next()
            group.cancelAll()
        }
    }

    func finish() { stateChanges.finish() }

    private func handleMediaEvents(server: SignalingServer) async {
        for await event in events {
            switch event {
            case .connected(let participant, let role):
                server.logger.debug("media transport connected", metadata: ["participant": "\(participant)", "pc": "\(role.rawValue)"])
            case .transportClosed(let participant, let role, let reason):
                server.logger.info("call participant's media transport closed; leaving the call",
                                   metadata: ["participant": "\(participant)", "pc": "\(role.rawValue)", "reason": "\(reason)"])
                await end(where: { id, _ in id == participant }, reason: .consent, server: server)
            case .activeSpeakers(let callId, let speakers):
                let (conversationId, userIds) = directory.state.withLock { state -> (String?, [String]) in
                    let conversation = state.rooms.first { $0.value.callId == callId }?.key
                    let userIds = speakers.compactMap { state.participants[$0]?.userId }
                    if let conversation { state.speakers[conversation] = userIds }
                    return (conversation, userIds)
                }
                guard let conversationId else { continue }
                let frame = ServerFrame.make("call.active-speaker", droppable: true,
                                             CallFrames.ActiveSpeaker(conversationId: conversationId, speakers: userIds))
                for member in directory.members(of: conversationId) { server.send(frame, to: member.connection) }
            }
        }
    }

    // MARK: evictions

    /// A participant's part in a call that the server ended, and what follows from it.
    struct Ended {
        var conversationId: String
        var callId: String
        var connection: Connection
        var effects: [CallEffect]
    }

    /// Ends the part in its call of every participant on this instance that `matches` picks:
    /// its connection gets `call.left` with `reason` (none when nil), the others `call.participant.left` (and
    /// `call.track.unpublished` for its tracks), and the engine drops its transports, as on a
    /// leave. Everything but `call.state` happens before this returns, so it can run inside the
    /// bus's delivery, ahead of a revoked login's connection being closed; `call.state` (which
    /// reads the members from the database) is returned as the conversations to announce.
    func endNow(where matches: (ParticipantID, CallDirectory.Entry) -> Bool, reason: CallLeaveReason?,
                server: SignalingServer) -> [String] {
        let ended = directory.state.withLock { state in
            var ended: [Ended] = []
            for (id, entry) in state.participants where matches(id, entry) {
                guard var room = state.rooms.removeValue(forKey: entry.conversationId) else { continue }
                // The entry may be one its room already let go of (its `.left` is being performed).
                let effects = room.participant(entry.userId)?.id == id ? room.leave(userId: entry.userId) : []
                state.keep(room)
                if !effects.isEmpty {
                    ended.append(Ended(conversationId: entry.conversationId, callId: room.callId, connection: entry.connection, effects: effects))
                }
            }
            return ended
        }
        for part in ended {
            if let reason {
                server.send(.make("call.left", CallFrames.Left(conversationId: part.conversationId, reason: reason)), to: part.connection)
            }
            _ = apply(part.effects, in: part.conversationId, callId: part.callId, server: server)
        }
        var seen = Set<String>()
        return ended.map(\.conversationId).filter { seen.insert($0).inserted }
    }

    /// `endNow`, then `call.state` for each call that changed.
    func end(where matches: (ParticipantID, CallDirectory.Entry) -> Bool, reason: CallLeaveReason?, server: SignalingServer) async {
        for conversationId in endNow(where: matches, reason: reason, server: server) { await announceState(conversationId, server: server) }
    }

    /// Ends every part in a call of `userId` on this instance: the one entry point for whatever
    /// ends a user's calls from outside a conversation (an account deactivated).
    public func evict(userId: String, reason: CallLeaveReason, server: SignalingServer) async {
        await end(where: { _, entry in entry.userId == userId }, reason: reason, server: server)
    }

    /// Every participant, on shutdown: each connection learns that the server ended its call.
    func endAll(server: SignalingServer) async {
        await end(where: { _, _ in true }, reason: .server, server: server)
    }

    /// A message of the bus (from any instance, this one included) that ends calls hosted here:
    /// a member removed from (or leaving) a conversation, a login revoked. Called before the
    /// hub delivers it, so a revoked login's connection gets `call.left` before it is closed.
    func deliver(_ message: BusMessage, server: SignalingServer) {
        let changed: [String]
        if let removal = message.removedMember {
            changed = endNow(where: { _, entry in entry.conversationId == removal.conversationId && entry.userId == removal.userId },
                             reason: .removed, server: server)
        } else if let login = message.revokedLogin {
            changed = endNow(where: { _, entry in entry.connection.loginId == login }, reason: .revoked, server: server)
        } else {
            return
        }
        for conversationId in changed { stateChanges.yield(conversationId) }
    }

    // MARK: effects

    private func perform(_ effects: [CallEffect], in conversationId: String, callId: String, server: SignalingServer) async {
        if apply(effects, in: conversationId, callId: callId, server: server) { await announceState(conversationId, server: server) }
    }

    /// Carries out `effects` but `call.state`; true when who is in the call changed (and it is due).
    private func apply(_ effects: [CallEffect], in conversationId: String, callId: String, server: SignalingServer) -> Bool {
        var membershipChanged = false
        // Who is in the call after the change (the effects are its consequences): looked up once,
        // not per effect, since one leave in a large call makes an offer for everyone.
        let members = directory.members(of: conversationId)
        func sendToOthers(_ userId: String, _ frame: ServerFrame) {
            for member in members where member.userId != userId { server.send(frame, to: member.connection) }
        }
        for effect in effects {
            switch effect {
            case .joined(let userId):
                membershipChanged = true
                sendToOthers(userId, .make("call.participant.joined",
                    CallFrames.ParticipantRef(conversationId: conversationId, userId: userId)))
            case .left(let userId, let participant):
                membershipChanged = true
                media.removeParticipant(participant)
                _ = directory.state.withLock { $0.participants.removeValue(forKey: participant) }
                sendToOthers(userId, .make("call.participant.left",
                    CallFrames.ParticipantRef(conversationId: conversationId, userId: userId)))
            case .published(let userId, let track):
                sendToOthers(userId, .make("call.track.published",
                    CallFrames.Track(conversationId: conversationId, userId: userId, track: track.dto)))
            case .unpublished(let userId, let track):
                sendToOthers(userId, .make("call.track.unpublished",
                    CallFrames.Track(conversationId: conversationId, userId: userId, track: track.dto)))
            case .muted(let userId, let track):
                sendToOthers(userId, .make("call.track.muted",
                    CallFrames.Track(conversationId: conversationId, userId: userId, track: track.dto)))
            case .subscribeOffer(let userId, let participant, let sdp, let revision, let opensTransport):
                if opensTransport, let credentials = try? directory.withRoom(conversationId, { room throws(CallError) in
                    room.subscribeCredentials(userId)
                }) {
                    media.openTransport(participant: participant, callId: callId, role: .subscribe, credentials: credentials,
                                        remote: nil)
                }
                let frame = ServerFrame.make("call.subscribe.offer", CallFrames.SubscribeOffer(conversationId: conversationId, sdp: sdp, revision: revision))
                for member in members where member.userId == userId { server.send(frame, to: member.connection) }
            }
        }
        return membershipChanged
    }

    /// `call.state` to every member of the conversation, on every instance.
    private func announceState(_ conversationId: String, server: SignalingServer) async {
        guard let members = try? await server.services.conversationStore.memberIds(conversationId: conversationId) else { return }
        let participants = directory.members(of: conversationId).map(\.userId)
        let frame = ServerFrame.make("call.state", CallFrames.State(
            conversationId: conversationId, active: !participants.isEmpty, participants: participants))
        await server.publish(BusMessage(frame: frame, recipients: members))
    }
}
