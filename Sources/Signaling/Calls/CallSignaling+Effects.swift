import SFU

/// Carrying out what a change of a `CallRoom` says follows from it.
extension CallSignaling {
    func perform(_ effects: [CallEffect], in conversationId: String, callId: String) async {
        if apply(effects, in: conversationId, callId: callId) { await announceState(conversationId) }
    }

    /// Carries out `effects` but `call.state`; true when who is in the call changed (and it is due).
    func apply(_ effects: [CallEffect], in conversationId: String, callId: String) -> Bool {
        var membershipChanged = false
        // Who is in the call after the change (the effects are its consequences): looked up once,
        // not per effect, since one leave in a large call makes an offer for everyone.
        let members = directory.members(of: conversationId)
        func sendToOthers(_ userId: String, _ frame: ServerFrame) {
            for member in members where member.userId != userId { outbox.send(frame, to: member.connection) }
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
                directory.forget(participant)
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
            case .declined(let userId):
                // Also to those the decline ends the call for (out of the room by now): a DM's caller.
                let ending = effects.compactMap { effect -> Connection? in
                    if case .ended(_, let participant, _) = effect { directory.connection(of: participant) } else { nil }
                }
                let frame = ServerFrame.make("call.declined", CallFrames.ParticipantRef(conversationId: conversationId, userId: userId))
                for connection in members.map(\.connection) + ending { outbox.send(frame, to: connection) }
            case .ended(_, let participant, let reason):
                // Out of the room already: its connection is found by its participant entry.
                if let connection = directory.connection(of: participant) {
                    outbox.send(.make("call.left", CallFrames.Left(conversationId: conversationId, reason: CallLeaveReason(reason))),
                                to: connection)
                }
            case .subscribeOffer(let userId, let participant, let sdp, let revision, let opensTransport):
                if opensTransport, let credentials = try? directory.withRoom(conversationId, { room throws(CallError) in
                    room.subscribeCredentials(userId)
                }) {
                    media.openTransport(participant: participant, callId: callId, role: .subscribe, credentials: credentials,
                                        remote: nil)
                }
                let frame = ServerFrame.make("call.subscribe.offer", CallFrames.SubscribeOffer(conversationId: conversationId, sdp: sdp, revision: revision))
                for member in members where member.userId == userId { outbox.send(frame, to: member.connection) }
            }
        }
        return membershipChanged
    }

    /// `call.state` to every member of the conversation, on every instance; and when the call
    /// just started or ended, its system message in the conversation's history.
    func announceState(_ conversationId: String) async {
        let participants = directory.members(of: conversationId).map(\.userId)
        await outbox.sendToMembers(of: conversationId, .make("call.state", CallFrames.State(
            conversationId: conversationId, active: !participants.isEmpty, participants: participants)))
        let messages = self.messages
        if let change = history.observe(conversationId: conversationId, participants: participants, now: clock.now().milliseconds,
                                        admit: { messages.spendForSystemLine(by: $0) }) {
            do {
                try await messages.postSystem(change.event, in: conversationId, senderId: change.senderId)
            } catch {
                // The call goes on; only its line in the history is missing.
                logger.warning("call system message not recorded", metadata: ["conversation": "\(conversationId)", "error": "\(error)"])
            }
        }
    }
}
