import ChatAPI
import SFU
import Synchronization

/// Every call on this instance: one `CallRoom` per conversation with a call, and which
/// WebSocket connection each participant joined from. The lock guards signaling state only
/// (a few operations per join, publish or answer); the media path never takes it.
public final class CallDirectory: Sendable {
    /// Where a participant is: its conversation, user and connection.
    typealias Entry = (conversationId: String, userId: String, connection: Connection)

    struct State {
        var rooms: [String: CallRoom] = [:]
        var participants: [ParticipantID: Entry] = [:]
        var nextParticipant: UInt64 = 1
        /// The last `call.active-speaker` of each call, for participants who join after it.
        var speakers: [String: [String]] = [:]

        /// Puts back a room taken out to change it, or forgets it once it is empty.
        mutating func keep(_ room: CallRoom) {
            if room.isEmpty { speakers[room.conversationId] = nil } else { rooms[room.conversationId] = room }
        }
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
            defer { state.keep(room) }
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
