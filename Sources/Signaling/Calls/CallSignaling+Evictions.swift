import ChatAPI
import SFU

/// The parts of calls the server ends without the participant asking: a connection closed, a
/// member removed, a login revoked, a transport lapsed, the server shutting down.
extension CallSignaling {
    /// A WebSocket closed: its participant leaves its call (no `call.left`: nobody is there to read it).
    func connectionClosed(_ connection: Connection) async {
        await end(where: { _, entry in entry.connection.id == connection.id }, reason: nil)
    }

    /// Ends the part in its call of every participant on this instance that `matches` picks:
    /// its connection gets `call.left` with `reason` (none when nil), the others `call.participant.left` (and
    /// `call.track.unpublished` for its tracks), and the engine drops its transports, as on a
    /// leave. Everything but `call.state` happens before this returns, so it can run inside the
    /// bus's delivery, ahead of a revoked login's connection being closed; `call.state` (which
    /// reads the members from the database) is returned as the conversations to announce.
    func endNow(where matches: (ParticipantID, CallDirectory.Entry) -> Bool, reason: CallLeaveReason?) -> [String] {
        let ended = directory.end(where: matches)
        for part in ended {
            if let reason {
                outbox.send(.make("call.left", CallFrames.Left(conversationId: part.conversationId, reason: reason)), to: part.connection)
            }
            _ = apply(part.effects, in: part.conversationId, callId: part.callId)
        }
        var seen = Set<String>()
        return ended.map(\.conversationId).filter { seen.insert($0).inserted }
    }

    /// `endNow`, then `call.state` for each call that changed.
    func end(where matches: (ParticipantID, CallDirectory.Entry) -> Bool, reason: CallLeaveReason?) async {
        for conversationId in endNow(where: matches, reason: reason) { await announceState(conversationId) }
    }

    /// Every participant, on shutdown: each connection learns that the server ended its call.
    func endAll() async {
        await end(where: { _, _ in true }, reason: .server)
    }

    /// A message of the bus (from any instance, this one included) that ends calls hosted here:
    /// a member removed from (or leaving) a conversation, a login revoked. Called before the
    /// hub delivers it, so a revoked login's connection gets `call.left` before it is closed.
    func deliver(_ message: BusMessage) {
        let changed: [String]
        if let removal = message.removedMember {
            changed = endNow(where: { _, entry in entry.conversationId == removal.conversationId && entry.userId == removal.userId },
                             reason: .removed)
        } else if let login = message.revokedLogin {
            changed = endNow(where: { _, entry in entry.connection.loginId == login }, reason: .revoked)
        } else {
            return
        }
        for conversationId in changed { stateChanges.yield(conversationId) }
    }
}
