import ChatAPI
import DTLS
import Foundation
import Logging
import NIOCore
import SFU

/// The call frames of `/ws` (PROTOCOL.md "Calls (SFU)"): turns them into changes of the call's
/// `CallRoom`, carries out the effects (frames to the others in the call, offers, `call.state`
/// to every member) and tells the media engine what to forward. Membership is checked on every
/// call frame, so a member removed from the conversation can do nothing more in its call.
public final class CallSignaling: Sendable {
    public let directory: CallDirectory
    let media: MediaServer
    let iceServers: IceServerConfiguration
    let maxParticipants: Int
    /// Sending sections per publish offer (`CALL_MAX_TRACKS`).
    let maxTracks: Int
    let clock: WallClock
    let events: AsyncStream<MediaEvent>

    /// - Parameter events: what `media` reports (its `events` callback feeds this stream).
    public init(directory: CallDirectory, media: MediaServer, events: AsyncStream<MediaEvent>, iceServers: IceServerConfiguration,
                maxParticipants: Int, maxTracks: Int = SdpLimits.defaultMaxPublishTracks, clock: WallClock = .system) {
        self.directory = directory
        self.events = events
        self.media = media
        self.iceServers = iceServers
        self.maxParticipants = maxParticipants
        self.maxTracks = maxTracks
        self.clock = clock
    }

    // MARK: requests

    func join(_ conversationId: String, id: String?, caller: AuthContext, connection: Connection, server: SignalingServer) async throws {
        _ = try await server.services.conversations.requireMember(conversationId, caller)
        guard let user = try await server.services.users.find(id: caller.userId) else { throw APIError.unauthorized() }
        let (local, credentials) = media.localTransport(sessionId: UInt64.random(in: 1...UInt64(Int64.max)))
        let limit = maxParticipants
        let (callId, others, effects) = try directory.state.withLock { state throws(CallError) in
            var room = state.rooms.removeValue(forKey: conversationId)
                ?? CallRoom(callId: UUID().uuidString.lowercased(), conversationId: conversationId)
            if room.participant(caller.userId) == nil, room.participants.count >= limit {
                if !room.isEmpty { state.rooms[conversationId] = room }
                throw CallError.callFull(limit: limit)
            }
            let participant = ParticipantID(rawValue: state.nextParticipant)
            state.nextParticipant += 1
            let others = room.participants.filter { $0.userId != caller.userId }
            let effects = room.join(userId: caller.userId, displayName: user.displayName, id: participant, connectionId: connection.id,
                                    subscribe: local, credentials: credentials)
            state.rooms[conversationId] = room
            state.participants[participant] = (conversationId, caller.userId, connection)
            return (room.callId, others, effects)
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
        let (fresh, freshCredentials) = media.localTransport(sessionId: UInt64.random(in: 1...UInt64(Int64.max)))
        let maxTracks = self.maxTracks
        let (negotiation, effects, opening, participant, credentials, callId) = try directory.withRoom(conversationId) {
            room throws(CallError) in
            let opening = !room.hasPublishTransport(caller.userId)
            let (negotiation, effects) = try room.publish(userId: caller.userId, offer: sdp, sources: sources,
                                                          local: fresh, credentials: freshCredentials, maxTracks: maxTracks)
            guard let participant = room.participant(caller.userId), let credentials = room.publishCredentials(caller.userId) else {
                throw CallError.notInCall
            }
            return (negotiation, effects, opening, participant, credentials, room.callId)
        }
        let fingerprints = negotiation.remoteFingerprints.compactMap { try? DtlsFingerprint(parsing: $0) }
        if opening {
            media.openTransport(participant: participant.id, callId: callId, role: .publish, credentials: credentials,
                                remoteUfrag: negotiation.remoteIceUfrag, remoteFingerprints: fingerprints)
        } else {
            media.updateRemote(participant: participant.id, role: .publish, ufrag: negotiation.remoteIceUfrag, fingerprints: fingerprints)
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
        let fingerprints = answer.remoteFingerprints.compactMap { try? DtlsFingerprint(parsing: $0) }
        media.updateRemote(participant: participant, role: .subscribe, ufrag: answer.remoteIceUfrag, fingerprints: fingerprints)
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

    /// A WebSocket closed: its participants leave their calls.
    func connectionClosed(_ connection: Connection, server: SignalingServer) async {
        let leaving = directory.state.withLock { state in
            state.participants.filter { $0.value.connection.id == connection.id }.map { ($0.value.conversationId, $0.value.userId) }
        }
        for (conversationId, userId) in leaving { await remove(userId: userId, from: conversationId, server: server) }
    }

    /// The media engine's events: a lapsed or failed transport makes its participant leave;
    /// active speakers go to the call.
    func run(server: SignalingServer) async {
        for await event in events {
            switch event {
            case .connected(let participant, let role):
                server.logger.debug("media transport connected", metadata: ["participant": "\(participant)", "pc": "\(role.rawValue)"])
            case .transportClosed(let participant, let role, let reason):
                guard let (conversationId, userId, _) = directory.state.withLock({ $0.participants[participant] }) else { continue }
                server.logger.info("call participant's media transport closed; leaving the call",
                                   metadata: ["participant": "\(participant)", "pc": "\(role.rawValue)", "reason": "\(reason)"])
                await remove(userId: userId, from: conversationId, server: server)
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

    private func remove(userId: String, from conversationId: String, server: SignalingServer) async {
        guard let (effects, callId) = try? directory.withRoom(conversationId, { room throws(CallError) in
            (room.leave(userId: userId), room.callId)
        }) else { return }
        await perform(effects, in: conversationId, callId: callId, server: server)
    }

    // MARK: effects

    private func perform(_ effects: [CallEffect], in conversationId: String, callId: String, server: SignalingServer) async {
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
                                        remoteUfrag: nil, remoteFingerprints: [])
                }
                let frame = ServerFrame.make("call.subscribe.offer", CallFrames.SubscribeOffer(conversationId: conversationId, sdp: sdp, revision: revision))
                for member in members where member.userId == userId { server.send(frame, to: member.connection) }
            }
        }
        if membershipChanged { await announceState(conversationId, server: server) }
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
