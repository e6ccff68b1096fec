import ICE
import SDP

/// The signaling state of one call (one conversation's call on this instance): who is in it,
/// what each publishes, and each subscribe connection's offer/answer state. A pure state
/// machine in the manner of postgres-nio's: every request returns the `CallEffect`s the caller
/// must carry out (frames to send, offers to deliver); it does no I/O and holds no lock, so
/// every rule is tested without sockets.
public struct CallRoom: Sendable {
    public let callId: String
    public let conversationId: String
    /// In join order.
    public private(set) var participants: [CallParticipant] = []
    private var trackCounter: UInt64 = 0
    /// The call is in a DM: it rings the other person, and ends for the caller when they
    /// decline, do not answer, or leave (`CallEndReason`).
    public let isDirect: Bool
    /// When the call started ringing (its first join), in milliseconds of the signaling's clock.
    public let startedAt: Int64
    /// Someone other than the one who started it joined: the call was answered.
    public private(set) var answered = false

    public init(callId: String, conversationId: String, isDirect: Bool = false, startedAt: Int64 = 0) {
        self.callId = callId
        self.conversationId = conversationId
        self.isDirect = isDirect
        self.startedAt = startedAt
    }

    public var isEmpty: Bool { participants.isEmpty }

    public func participant(_ userId: String) -> CallParticipant? { participants.first { $0.userId == userId } }

    private func index(_ userId: String) throws(CallError) -> Int {
        guard let index = participants.firstIndex(where: { $0.userId == userId }) else { throw .notInCall }
        return index
    }

    // MARK: joining and leaving

    /// Adds a participant (a user joining again from another connection replaces their first
    /// one, which leaves). `subscribe` is Parley's side of the new subscribe connection.
    public mutating func join(userId: String, displayName: String, id: ParticipantID, connectionId: UInt64,
                              subscribe: LocalTransport) -> [CallEffect] {
        var effects: [CallEffect] = []
        if participant(userId) != nil { effects += leave(userId: userId, rejoining: true) }
        if participants.contains(where: { $0.userId != userId }) { answered = true }
        participants.append(CallParticipant(
            userId: userId, displayName: displayName, id: id, connectionId: connectionId,
            subscribe: SubscribeState(side: .init(local: subscribe))))
        effects.append(.joined(userId: userId))
        effects += refreshOffers()
        return effects
    }

    /// Removes a participant: the others see it leave and its tracks go, and get new offers. In
    /// an answered DM call the one left behind is alone, and the call ends for them too.
    public mutating func leave(userId: String) -> [CallEffect] {
        leave(userId: userId, rejoining: false)
    }

    private mutating func leave(userId: String, rejoining: Bool) -> [CallEffect] {
        guard let index = participants.firstIndex(where: { $0.userId == userId }) else { return [] }
        let gone = participants.remove(at: index)
        var effects: [CallEffect] = [.left(userId: userId, participant: gone.id)]
        for track in gone.tracks { effects.append(.unpublished(userId: userId, track: track)) }
        if isDirect, answered, !rejoining, participants.count == 1, let last = participants.first {
            return effects + end(last.userId, reason: .alone)
        }
        effects += refreshOffers()
        return effects
    }

    // MARK: ringing (DM calls)

    /// A member not in the call declines it (`call.decline`): the participants are told
    /// (`CallEffect.declined`), and in a DM the call ends for the caller. A participant cannot
    /// decline (it leaves instead).
    public mutating func decline(userId: String) throws(CallError) -> [CallEffect] {
        guard participant(userId) == nil else { throw .alreadyInCall }
        guard !participants.isEmpty else { return [] }
        var effects: [CallEffect] = [.declined(userId: userId)]
        if isDirect {
            for caller in participants.map(\.userId) { effects += end(caller, reason: .declined) }
        }
        return effects
    }

    /// A DM call nobody answered within `timeout` milliseconds of its start ends for the caller
    /// (`CALL_RING_TIMEOUT`); called by the signaling's sweep with its clock's `now`.
    public mutating func ringExpired(now: Int64, timeout: Int64) -> [CallEffect] {
        guard isDirect, !answered, !participants.isEmpty, now - startedAt >= timeout else { return [] }
        var effects: [CallEffect] = []
        for caller in participants.map(\.userId) { effects += end(caller, reason: .unanswered) }
        return effects
    }

    /// Ends `userId`'s part: `ended` (their connection gets `call.left` with `reason`) and then
    /// the ordinary leave.
    private mutating func end(_ userId: String, reason: CallEndReason) -> [CallEffect] {
        guard let participant = participant(userId) else { return [] }
        return [.ended(userId: userId, participant: participant.id, reason: reason)] + leave(userId: userId, rejoining: true)
    }

    // MARK: publishing

    /// Answers a publish offer. Tracks are matched to m-sections by mid: a mid seen before keeps
    /// its track, a new sending mid publishes a track, a mid that stopped sending unpublishes.
    /// `local` is used for the first publish only (later offers renegotiate the same connection).
    /// An offer sending more than `maxTracks` tracks is refused (`CALL_MAX_TRACKS`).
    public mutating func publish(userId: String, offer: String, sources: [String: TrackSource],
                                 local: LocalTransport,
                                 maxTracks: Int = SDPLimits.defaultMaxPublishTracks) throws(CallError)
        -> (negotiation: PublishNegotiation, effects: [CallEffect]) {
        let index = try index(userId)
        let side = participants[index].publish ?? .init(local: local)
        let negotiation: PublishNegotiation
        do {
            negotiation = try SDPNegotiator.negotiatePublish(offer: offer, local: side.local, maxTracks: maxTracks)
        } catch {
            throw .sdp(error)
        }
        let mids = Set(negotiation.media.map(\.mid))
        for mid in sources.keys where !mids.contains(mid) {
            throw .invalidTracks("tracks names mid '\(mid.prefix(32))', which the offer does not send.")
        }
        participants[index].publish = side
        var effects: [CallEffect] = []
        let old = participants[index].tracks
        var tracks: [CallTrack] = []
        for media in negotiation.media {
            let source = sources[media.mid] ?? (media.kind == .audio ? .microphone : .camera)
            if var existing = old.first(where: { $0.media.mid == media.mid && $0.kind == media.kind }) {
                existing.media = media
                existing.source = source
                tracks.append(existing)
            } else {
                trackCounter += 1
                let id = TrackID(rawValue: participants[index].id.rawValue << 20 | (trackCounter & 0xFFFFF))
                let track = CallTrack(trackId: "\(callId.prefix(8))-\(participants[index].id.rawValue)-\(trackCounter)",
                                      id: id, source: source, muted: false, media: media)
                tracks.append(track)
                effects.append(.published(userId: userId, track: track))
            }
        }
        for track in old where !tracks.contains(where: { $0.id == track.id }) {
            effects.append(.unpublished(userId: userId, track: track))
        }
        participants[index].tracks = tracks
        effects += refreshOffers()
        return (negotiation, effects)
    }

    /// Whether the caller's publish connection exists yet (its first `call.publish` opens it).
    public func hasPublishTransport(_ userId: String) -> Bool { participant(userId)?.publish != nil }

    /// Parley's ICE credentials of a participant's publish connection.
    public func publishCredentials(_ userId: String) -> ICECredentials? { participant(userId)?.publish?.credentials }

    public mutating func mute(userId: String, trackId: String, muted: Bool) throws(CallError) -> [CallEffect] {
        let index = try index(userId)
        guard let trackIndex = participants[index].tracks.firstIndex(where: { $0.trackId == trackId }) else {
            throw .unknownTrack(trackId)
        }
        guard participants[index].tracks[trackIndex].muted != muted else { return [] }
        participants[index].tracks[trackIndex].muted = muted
        return [.muted(userId: userId, track: participants[index].tracks[trackIndex])]
    }

    /// The engine id of a remote track a subscriber may set the quality of.
    public func remoteTrack(_ trackId: String, for userId: String) throws(CallError) -> TrackID {
        let index = try index(userId)
        for other in participants.indices where other != index {
            if let track = participants[other].tracks.first(where: { $0.trackId == trackId }) { return track.id }
        }
        throw .unknownTrack(trackId)
    }

    // MARK: subscribing

    /// Takes the answer to the subscribe offer of `revision`: `.accepted` with what the answer
    /// accepted, as the engine's down-tracks, and any offer that was held back while this one
    /// was open.
    ///
    /// An answer for another revision is refused (thrown) and changes nothing: the offer
    /// awaiting an answer still does. An answer for the awaited revision that cannot be used
    /// (it does not parse, or breaks a rule of the offer) is `.rejected`: the client has
    /// already applied it as its local description (JSEP, RFC 8829: an applied answer returns
    /// its connection to stable) and cannot answer the same offer twice, so waiting on would leave it with no
    /// offer ever again. The offer is withdrawn instead and the next revision offered at once
    /// (in the effects), so the client gets its `error` and a fresh offer to answer; what the
    /// last usable answer accepted keeps flowing meanwhile. Each retry is one client frame, so
    /// a client that never answers well costs one offer per answer it sends, no more.
    public mutating func subscribeAnswer(userId: String, sdp: String, revision: Int) throws(CallError) -> SubscribeAnswerOutcome {
        let index = try index(userId)
        let awaiting = participants[index].subscribe.awaitingAnswer
        guard awaiting == revision else { throw .staleRevision(expected: awaiting, got: revision) }
        let offered = participants[index].subscribe.offered
        participants[index].subscribe.awaitingAnswer = nil
        let answer: SubscribeAnswer
        do {
            answer = try SDPNegotiator.parseSubscribeAnswer(sdp, offered: offered)
        } catch {
            participants[index].subscribe.dirty = true
            return .rejected(.sdp(error), effects: refreshOffers())
        }
        let accepted = Set(answer.acceptedMids)
        let rtx = Set(answer.rtxAcceptedMids)
        let answeredMids = Set(offered.map(\.mid))
        let answeredInactive = Set(offered.filter { !$0.active }.map(\.mid))
        for slot in participants[index].subscribe.slots.indices where answeredMids.contains(participants[index].subscribe.slots[slot].track.mid) {
            let mid = participants[index].subscribe.slots[slot].track.mid
            participants[index].subscribe.slots[slot].accepted = accepted.contains(mid)
            participants[index].subscribe.slots[slot].rtxAccepted = rtx.contains(mid)
            participants[index].subscribe.slots[slot].extensions = answer.extensions[mid] ?? HeaderExtensionMap()
            // Both sides now agree the section carries nothing: it may carry the next track of its kind.
            if answeredInactive.contains(mid), !participants[index].subscribe.slots[slot].track.active {
                participants[index].subscribe.slots[slot].reusable = true
            }
        }
        let effects = refreshOffers()
        return .accepted(answer, downTracks: downTracks(of: participants[index]), effects: effects)
    }

    /// The down-tracks a subscriber's last answer accepted that are still live.
    func downTracks(of participant: CallParticipant) -> [DownTrackConfig] {
        participant.subscribe.slots.filter { $0.accepted && $0.track.active }.map { slot in
            DownTrackConfig(
                track: slot.engineTrack, ssrc: slot.track.ssrc, rtxSSRC: slot.rtxAccepted ? slot.track.rtxSSRC : nil,
                payloadType: slot.track.codec.payloadType, rtxPayloadType: slot.rtxAccepted ? slot.track.codec.rtxPayloadType : nil,
                absSendTimeId: slot.extensions.absSendTime, audioLevelId: slot.extensions.audioLevel, quality: .high)
        }
    }

    /// Brings every subscribe connection's slots in line with the tracks of the others, and
    /// sends an offer to each one that changed and is not waiting for an answer.
    private mutating func refreshOffers() -> [CallEffect] {
        var effects: [CallEffect] = []
        // Every published track once, and per participant the set of tracks its slots carry:
        // linear in participants times tracks, with no copy of a participant (a 200-person call
        // renegotiates on every answer).
        var published: [(owner: String, track: CallTrack)] = []
        for participant in participants {
            for track in participant.tracks { published.append((participant.userId, track)) }
        }
        let live = Set(published.map(\.track.id))
        for index in participants.indices {
            let userId = participants[index].userId
            var carried = Set<TrackID>()
            for slot in participants[index].subscribe.slots.indices where participants[index].subscribe.slots[slot].track.active {
                let track = participants[index].subscribe.slots[slot].engineTrack
                if live.contains(track) {
                    carried.insert(track)
                } else {
                    participants[index].subscribe.slots[slot].track.active = false
                    participants[index].subscribe.dirty = true
                }
            }
            for (owner, track) in published where owner != userId && !carried.contains(track.id) {
                let codec = SubscribeCodecs.codec(forwarding: track.media.codec)
                let rtxSSRC: UInt32? = codec.rtxPayloadType == nil ? nil : UInt32.random(in: 1...UInt32.max)
                // A section whose track went (offered and answered inactive) is reused for a new
                // track of its kind, with its mid (the transceiver stays) and fresh SSRCs; only
                // when none is free does the offer grow. So the sections a subscriber has are
                // never more than the most tracks it received at once (plus those going
                // through one offer/answer), however many come and go in a long call.
                let reused = participants[index].subscribe.slots.firstIndex { $0.reusable && $0.track.kind == track.kind }
                let mid = reused.map { participants[index].subscribe.slots[$0].track.mid }
                    ?? String(participants[index].subscribe.nextMid)
                let slot = SubscribeSlot(
                    track: SubscribeTrack(mid: mid, kind: track.kind, codec: codec, ssrc: UInt32.random(in: 1...UInt32.max),
                                          rtxSSRC: rtxSSRC, streamId: owner, trackId: track.trackId),
                    engineTrack: track.id)
                if let reused {
                    participants[index].subscribe.slots[reused] = slot
                } else {
                    participants[index].subscribe.slots.append(slot)
                    participants[index].subscribe.nextMid += 1
                }
                participants[index].subscribe.dirty = true
            }
            if let offer = nextOffer(&participants[index].subscribe) {
                effects.append(.subscribeOffer(userId: userId, participant: participants[index].id, sdp: offer.sdp,
                                               revision: offer.revision, opensTransport: offer.opens))
            }
        }
        return effects
    }

    /// The next subscribe offer, if the slots changed and no offer awaits an answer.
    private func nextOffer(_ state: inout SubscribeState) -> (sdp: String, revision: Int, opens: Bool)? {
        guard state.dirty, state.awaitingAnswer == nil, !state.slots.isEmpty else { return nil }
        state.revision += 1
        state.awaitingAnswer = state.revision
        state.dirty = false
        let opens = !state.opened
        state.opened = true
        state.offered = state.slots.map(\.track)
        let sdp = SDPNegotiator.subscribeOffer(tracks: state.offered, local: state.side.local, version: UInt64(state.revision))
        return (sdp, state.revision, opens)
    }

    /// Parley's ICE credentials of a participant's subscribe connection (for opening it).
    public func subscribeCredentials(_ userId: String) -> ICECredentials? { participant(userId)?.subscribe.side.credentials }
}

/// What became of a subscribe answer for the awaited revision (`CallRoom.subscribeAnswer`).
public enum SubscribeAnswerOutcome: Sendable {
    /// Taken: the engine forwards `downTracks`; `effects` may hold an offer held back meanwhile.
    case accepted(SubscribeAnswer, downTracks: [DownTrackConfig], effects: [CallEffect])
    /// Unusable: the client gets `error` for it, and `effects` holds a fresh offer (the next
    /// revision) so its subscribe connection can be negotiated again.
    case rejected(CallError, effects: [CallEffect])
}

/// What the owner of a `CallRoom` must do after a change.
public enum CallEffect: Sendable, Equatable {
    /// `call.participant.joined` to the others in the call, `call.state` to the members.
    case joined(userId: String)
    /// `call.participant.left` to the others, `call.state` to the members; the engine drops it.
    case left(userId: String, participant: ParticipantID)
    /// `call.track.published` / `call.track.unpublished` / `call.track.muted` to the others.
    case published(userId: String, track: CallTrack)
    case unpublished(userId: String, track: CallTrack)
    case muted(userId: String, track: CallTrack)
    /// `call.subscribe.offer` to this participant; the first one opens its subscribe transport.
    case subscribeOffer(userId: String, participant: ParticipantID, sdp: String, revision: Int, opensTransport: Bool)
    /// `call.declined` to the participants: a member declined the call.
    case declined(userId: String)
    /// The call ended for this participant without its asking: `call.left` with `reason` to its
    /// connection. The `left` effect of its leaving follows.
    case ended(userId: String, participant: ParticipantID, reason: CallEndReason)
}

/// Why a DM call ended for a participant on the call's own rules (docs/protocol.md "Calls",
/// ringing); the `reason` of its `call.left`.
public enum CallEndReason: String, Sendable, Equatable {
    /// The other person declined (`call.decline`).
    case declined
    /// The other person did not join within the ring timeout.
    case unanswered
    /// The other person left an answered call.
    case alone
}
