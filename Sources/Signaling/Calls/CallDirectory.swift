import ChatAPI
import SFU
import Synchronization

/// Every call on this instance: one `CallRoom` per conversation with a call, and which
/// WebSocket connection each participant joined from. The lock guards signaling state only
/// (a few operations per join, publish or answer); the media path never takes it.
public final class CallDirectory: Sendable {
    struct State {
        var rooms: [String: CallRoom] = [:]
        /// Participant -> its conversation, user and connection.
        var participants: [ParticipantID: (conversationId: String, userId: String, connection: Connection)] = [:]
        var nextParticipant: UInt64 = 1
        /// The last `call.active-speaker` of each call, for participants who join after it.
        var speakers: [String: [String]] = [:]
    }

    let state = Mutex(State())

    public init() {}

    /// `GET /conversations/{id}/call` and the conversation list's call summary.
    public var lookup: CallLookup {
        CallLookup { [self] conversationId in
            state.withLock { state in
                guard let room = state.rooms[conversationId] else { return CallStateDTO(active: false, participants: []) }
                return CallStateDTO(active: true, participants: room.participants.map {
                    CallStateDTO.Participant(userId: $0.userId, tracks: $0.tracks.map(\.dto))
                })
            }
        }
    }

    /// Runs `body` on a conversation's call; `.notInCall` if there is none.
    func withRoom<R>(_ conversationId: String, _ body: (inout CallRoom) throws(CallError) -> R) throws(CallError) -> R {
        try state.withLock { state throws(CallError) -> R in
            // Taken out of the dictionary while it changes, so its arrays are not shared and
            // are changed in place rather than copied (a 200-person call answers 200 times).
            guard var room = state.rooms.removeValue(forKey: conversationId) else { throw CallError.notInCall }
            defer {
                if room.isEmpty { state.speakers[conversationId] = nil } else { state.rooms[conversationId] = room }
            }
            return try body(&room)
        }
    }

    /// The call's participants (user ids, in join order) and their connections, as they are now.
    func members(of conversationId: String) -> [(userId: String, connection: Connection)] {
        state.withLock { state in
            guard let room = state.rooms[conversationId] else { return [] }
            return room.participants.compactMap { participant in
                state.participants[participant.id].map { (participant.userId, $0.connection) }
            }
        }
    }
}
