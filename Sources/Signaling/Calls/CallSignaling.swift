import ChatAPI
import Foundation
import Logging
import SFU
import SDP

/// The call frames of `/ws` (docs/protocol.md "Calls"): turns them into changes of the call's
/// `CallRoom`, carries out the effects (frames to the others in the call, offers, `call.state`
/// to every member) and tells the media plane what to forward.
///
/// Call membership follows conversation membership and the login: a member removed from the
/// conversation (or leaving it), a login revoked, a lapsed media connection or a join of another
/// call ends the participant's part at once (`end(where:reason:)`), and its connection is told
/// why with `call.left`. Membership is also checked on every call frame, so a removed member
/// whose eviction is still on its way can do nothing more in the call.
///
/// Its neighbours come in once, at construction: the media plane, the outbox its frames leave
/// by, and the chat services that say who is a member.
public final class CallSignaling: Sendable {
    public let directory: CallDirectory
    let media: any MediaPlane
    let outbox: any FrameOutbox
    let conversations: ConversationService
    let users: UserStore
    /// Where `call_started` and `call_ended` system messages are posted.
    let messages: MessageService
    let history = CallHistory()
    let iceServers: ICEServerConfiguration
    let maxParticipants: Int
    /// How many calls one user may be in at once, across its connections on this instance; nil: no limit.
    let maxCallsPerUser: Int?
    /// Sending sections per publish offer (`CALL_MAX_TRACKS`).
    let maxTracks: Int
    let clock: WallClock
    /// How long a DM call rings before it ends unanswered (`CALL_RING_TIMEOUT`).
    let ringTimeoutMilliseconds: Int64
    let logger: Logger
    let events: AsyncStream<MediaEvent>
    /// Conversations whose call changed outside a request (an eviction from the bus's delivery,
    /// which cannot wait): their `call.state` is announced by `run`, in order.
    let stateChanges: AsyncStream<String>.Continuation
    let stateChangeStream: AsyncStream<String>

    /// - Parameters:
    ///   - events: what `media` reports (its `events` callback feeds this stream).
    ///   - services: the membership check on every frame, and the caller's display name.
    ///   - maxCallsPerUser: `CALL_MAX_PER_USER`; nil for no limit.
    public init(directory: CallDirectory, media: any MediaPlane, events: AsyncStream<MediaEvent>, outbox: any FrameOutbox,
                services: ChatServices, iceServers: ICEServerConfiguration, maxParticipants: Int, maxCallsPerUser: Int? = 2,
                maxTracks: Int = SDPLimits.defaultMaxPublishTracks, ringTimeout: Duration = .seconds(45), clock: WallClock = .system,
                logger: Logger) {
        self.directory = directory
        self.events = events
        self.media = media
        self.outbox = outbox
        self.conversations = services.conversations
        self.users = services.users
        self.messages = services.messages
        self.iceServers = iceServers
        self.maxParticipants = maxParticipants
        self.maxCallsPerUser = maxCallsPerUser
        self.maxTracks = maxTracks
        self.clock = clock
        ringTimeoutMilliseconds = ringTimeout.components.seconds * 1000 + ringTimeout.components.attoseconds / 1_000_000_000_000_000
        self.logger = logger
        (stateChangeStream, stateChanges) = AsyncStream<String>.makeStream()
    }

    // MARK: requests

    /// `call.join`. A connection is in one call at a time: joining another conversation's call
    /// leaves the first (`call.left` reason `replaced`), as does the same user's earlier
    /// connection in this call. Both limits (participants per call, calls per user) are checked
    /// before anything changes, so a refused join loses nothing.
    func join(_ conversationId: String, id: String?, caller: AuthContext, connection: Connection) async throws {
        let membership = try await conversations.requireMember(conversationId, caller)
        guard let user = try await users.find(id: caller.userId) else { throw APIError.unauthorized() }
        // A bot chats through its token but has no media stack to bring to a call.
        guard user.role != .bot else { throw APIError.forbidden("A bot cannot join calls.") }
        let admission = try directory.admit(
            userId: caller.userId, displayName: user.displayName, connection: connection, to: conversationId,
            isDirect: membership.kind == .dm, now: clock.now().milliseconds,
            subscribe: media.localTransport(sessionId: UInt64.random(in: 1...UInt64(Int64.max))),
            maxParticipants: maxParticipants, maxCallsPerUser: maxCallsPerUser)
        for ended in admission.replaced {
            outbox.send(.make("call.left", CallFrames.Left(conversationId: ended.conversationId, reason: .replaced)), to: ended.connection)
            if ended.conversationId != conversationId { await perform(ended.effects, in: ended.conversationId, callId: ended.callId) }
        }
        let servers = iceServers.servers(for: caller.userId, now: Int(clock.now().milliseconds / 1000))
        outbox.send(.make("call.config", id: id, CallFrames.Config(conversationId: conversationId, callId: admission.callId,
                                                                  iceServers: servers)), to: connection)
        outbox.send(.make("call.participants", CallFrames.Participants(conversationId: conversationId, participants: admission.others.map {
            CallFrames.Participant(userId: $0.userId, displayName: $0.displayName, tracks: $0.tracks.map { (track: CallTrack) in track.dto })
        })), to: connection)
        // Who is speaking now, so the new tile highlights do not wait for the next change.
        if !admission.speakers.isEmpty {
            outbox.send(.make("call.active-speaker", droppable: true,
                              CallFrames.ActiveSpeaker(conversationId: conversationId, speakers: admission.speakers)), to: connection)
        }
        await perform(admission.effects, in: conversationId, callId: admission.callId)
        // A removal that committed after the check above had its bus event delivered before this
        // participant was in the room, so nothing ended it: one more check, now that it is.
        do {
            _ = try await conversations.requireMember(conversationId, caller)
        } catch let error as APIError where error.code == "not_found" {
            await end(where: { id, _ in id == admission.participant }, reason: .removed)
        } catch {
            // The database did not answer: the join stands, as it would have a moment earlier.
        }
    }

    func publish(_ conversationId: String, sdp: String, tracks: [ClientFrame.PublishedSource], id: String?,
                 caller: AuthContext, connection: Connection) async throws {
        _ = try await conversations.requireMember(conversationId, caller)
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
        outbox.send(.make("call.publish.answer", id: id, CallFrames.PublishAnswer(conversationId: conversationId, sdp: negotiation.answer)),
                    to: connection)
        await perform(effects, in: conversationId, callId: callId)
    }

    /// An unusable answer to the awaited offer gets its `error` (thrown, so the reader sends it
    /// with the frame's id) after the fresh offer `CallRoom` made in its place: the client
    /// answers that one and its subscribe connection recovers.
    func subscribeAnswer(_ conversationId: String, sdp: String, revision: Int, caller: AuthContext) async throws {
        _ = try await conversations.requireMember(conversationId, caller)
        let (outcome, participant, callId) = try directory.withRoom(conversationId) { room throws(CallError) in
            guard let participant = room.participant(caller.userId) else { throw CallError.notInCall }
            return (try room.subscribeAnswer(userId: caller.userId, sdp: sdp, revision: revision), participant.id, room.callId)
        }
        if case .rejected(let error, let reoffer) = outcome {
            await perform(reoffer, in: conversationId, callId: callId)
            throw error
        }
        guard case .accepted(let answer, let downTracks, let effects) = outcome else { return }
        if let remote = answer.remote { media.updateRemote(participant: participant, role: .subscribe, remote: remote) }
        media.setDownTracks(participant: participant, downTracks)
        await perform(effects, in: conversationId, callId: callId)
    }

    func mute(_ conversationId: String, trackId: String, muted: Bool, caller: AuthContext) async throws {
        _ = try await conversations.requireMember(conversationId, caller)
        let (effects, callId) = try directory.withRoom(conversationId) { room throws(CallError) in
            (try room.mute(userId: caller.userId, trackId: trackId, muted: muted), room.callId)
        }
        await perform(effects, in: conversationId, callId: callId)
    }

    func quality(_ conversationId: String, trackId: String, quality: String, caller: AuthContext) async throws {
        _ = try await conversations.requireMember(conversationId, caller)
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
    func candidate(_ conversationId: String, caller: AuthContext) async throws {
        _ = try await conversations.requireMember(conversationId, caller)
        try directory.withRoom(conversationId) { room throws(CallError) in
            guard room.participant(caller.userId) != nil else { throw CallError.notInCall }
        }
    }

    /// `call.decline`: a member not in the call turns it down. The participants are told
    /// (`call.declined`); a DM call ends for the caller. A call that already ended needs no
    /// answer, so declining it is not an error.
    func decline(_ conversationId: String, caller: AuthContext) async throws {
        _ = try await conversations.requireMember(conversationId, caller)
        let outcome: (effects: [CallEffect], callId: String)
        do {
            outcome = try directory.withRoom(conversationId) { room throws(CallError) in
                (try room.decline(userId: caller.userId), room.callId)
            }
        } catch .notInCall {
            return
        }
        await perform(outcome.effects, in: conversationId, callId: outcome.callId)
    }

    /// Ends every DM call nobody answered within `ringTimeout` (`call.left` `unanswered` to the
    /// caller). Run every second by `run`; tests call it with their clock.
    func sweepUnanswered() async {
        let now = clock.now().milliseconds, timeout = ringTimeoutMilliseconds
        for (conversationId, callId, effects) in directory.expireRinging(now: now, timeout: timeout) {
            await perform(effects, in: conversationId, callId: callId)
        }
    }

    func leave(_ conversationId: String, caller: AuthContext) async throws {
        _ = try await conversations.requireMember(conversationId, caller)
        let (effects, callId) = try directory.withRoom(conversationId) { room throws(CallError) in
            guard room.participant(caller.userId) != nil else { throw CallError.notInCall }
            return (room.leave(userId: caller.userId), room.callId)
        }
        await perform(effects, in: conversationId, callId: callId)
    }
}
