import ChatAPI
import Foundation
import SDP
import SFU
import Synchronization

/// Every call on this instance: one `CallRoom` per conversation with a call, and which
/// WebSocket connection each participant joined from. The lock guards signaling state only
/// (a few operations per join, publish or answer); the media path never takes it. Every change
/// that spans the rooms and the participants (a join, an eviction) is one operation here, made
/// under one hold of the lock, so no one sees a participant in one and not the other.
public final class CallDirectory: Sendable {
    /// Where a participant is: its conversation, user and connection.
    typealias Entry = (conversationId: String, userId: String, connection: Connection)

    private struct State {
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

    private let state = Mutex(State())

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

    /// A participant's part in a call that ended without its asking, and what follows from it.
    struct Ended {
        var conversationId: String
        var callId: String
        var connection: Connection
        var effects: [CallEffect]
    }

    /// What a join changed.
    struct Admission {
        var callId: String
        var participant: ParticipantID
        /// Who else was in the call, as they were before the join.
        var others: [CallParticipant]
        var effects: [CallEffect]
        /// Parts the join ended: the connection's part in another call, and the same user's part
        /// in this call from another connection (whose effects `CallRoom.join` already made).
        var replaced: [Ended]
        /// The call's last active speakers, for the new participant's tiles.
        var speakers: [String]
    }

    /// Puts `connection`'s user into the conversation's call (making the call if there is
    /// none). A connection is in one call at a time, so its part in another call ends, as does
    /// the same user's earlier part in this one. Both limits are checked before anything
    /// changes, so a refused join leaves every call as it was.
    func admit(userId: String, displayName: String, connection: Connection, to conversationId: String, isDirect: Bool, now: Int64,
               subscribe local: LocalTransport, maxParticipants: Int, maxCallsPerUser: Int?) throws(CallError) -> Admission {
        try state.withLock { state throws(CallError) in
            // The call this connection is in now, if another: it is left below.
            let current = state.participants.first { $0.value.connection.id == connection.id && $0.value.conversationId != conversationId }
            if let maxCallsPerUser {
                var calls = Set(state.participants.values.filter { $0.userId == userId }.map(\.conversationId))
                calls.remove(conversationId)
                if let current { calls.remove(current.value.conversationId) }
                if calls.count >= maxCallsPerUser { throw CallError.tooManyCalls(limit: maxCallsPerUser) }
            }
            var room = state.rooms.removeValue(forKey: conversationId)
                ?? CallRoom(callId: UUID().uuidString.lowercased(), conversationId: conversationId, isDirect: isDirect, startedAt: now)
            if room.participant(userId) == nil, room.participants.count >= maxParticipants {
                if !room.isEmpty { state.rooms[conversationId] = room }
                throw CallError.callFull(limit: maxParticipants)
            }
            var replaced: [Ended] = []
            if let current, var old = state.rooms.removeValue(forKey: current.value.conversationId) {
                let effects = old.participant(userId)?.id == current.key ? old.leave(userId: userId) : []
                state.keep(old)
                if !effects.isEmpty {
                    replaced.append(Ended(conversationId: old.conversationId, callId: old.callId, connection: current.value.connection, effects: effects))
                }
            }
            if let previous = room.participant(userId), let entry = state.participants[previous.id], entry.connection.id != connection.id {
                replaced.append(Ended(conversationId: conversationId, callId: room.callId, connection: entry.connection, effects: []))
            }
            let participant = ParticipantID(rawValue: state.nextParticipant)
            state.nextParticipant += 1
            let others = room.participants.filter { $0.userId != userId }
            let effects = room.join(userId: userId, displayName: displayName, id: participant, connectionId: connection.id,
                                    subscribe: local)
            state.rooms[conversationId] = room
            state.participants[participant] = (conversationId, userId, connection)
            return Admission(callId: room.callId, participant: participant, others: others, effects: effects,
                             replaced: replaced, speakers: state.speakers[conversationId] ?? [])
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

    /// Ends the DM calls that rang `timeout` milliseconds by `now` with nobody answering
    /// (`CallRoom.ringExpired`): per call, the effects to carry out.
    func expireRinging(now: Int64, timeout: Int64) -> [(conversationId: String, callId: String, effects: [CallEffect])] {
        state.withLock { state in
            var expired: [(conversationId: String, callId: String, effects: [CallEffect])] = []
            for conversationId in state.rooms.keys {
                guard var room = state.rooms[conversationId], room.isDirect, !room.answered else { continue }
                state.rooms[conversationId] = nil
                let effects = room.ringExpired(now: now, timeout: timeout)
                state.keep(room)
                if !effects.isEmpty { expired.append((conversationId, room.callId, effects)) }
            }
            return expired
        }
    }

    /// Ends the part of every participant that `matches` picks, as a leave would. An entry its
    /// room already let go of (its `.left` is being carried out) ends with no effects and is
    /// left out.
    func end(where matches: (ParticipantID, Entry) -> Bool) -> [Ended] {
        state.withLock { state in
            var ended: [Ended] = []
            for (id, entry) in state.participants where matches(id, entry) {
                guard var room = state.rooms.removeValue(forKey: entry.conversationId) else { continue }
                let effects = room.participant(entry.userId)?.id == id ? room.leave(userId: entry.userId) : []
                state.keep(room)
                if !effects.isEmpty {
                    ended.append(Ended(conversationId: entry.conversationId, callId: room.callId, connection: entry.connection, effects: effects))
                }
            }
            return ended
        }
    }

    /// Forgets a participant its room has let go of (the `.left` effect).
    /// The connection a participant joined from, until its `left` is carried out (`forget`).
    func connection(of participant: ParticipantID) -> Connection? {
        state.withLock { $0.participants[participant]?.connection }
    }

    func forget(_ participant: ParticipantID) {
        _ = state.withLock { $0.participants.removeValue(forKey: participant) }
    }

    /// Records a call's active speakers (the engine names participants; clients, users) and
    /// returns the conversation and the users, or nil when the call has ended.
    func recordSpeakers(callId: String, _ speakers: [ParticipantID]) -> (conversationId: String, userIds: [String])? {
        state.withLock { state in
            guard let conversationId = state.rooms.first(where: { $0.value.callId == callId })?.key else { return nil }
            let userIds = speakers.compactMap { state.participants[$0]?.userId }
            state.speakers[conversationId] = userIds
            return (conversationId, userIds)
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

    /// The connection of every participant, in any call.
    var connections: [Connection] { state.withLock { $0.participants.values.map(\.connection) } }
}
