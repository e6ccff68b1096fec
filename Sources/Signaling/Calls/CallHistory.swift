import ChatAPI
import Synchronization

/// Which calls are going on, as the history records them: the first participant starts a
/// call (`call_started`), the room emptying ends it (`call_ended`, with its length). Fed with
/// who is in each call every time that changes (`CallSignaling.announceState`), so every way
/// in and out (join, leave, eviction, decline, ring timeout, shutdown) is seen in one place.
/// A start is recorded only when `admit` lets it (the starter's message budget), and an end only
/// for a start that was: a user joining and leaving in a loop writes no more lines than messages.
final class CallHistory: Sendable {
    private struct Started { var userId: String; var at: Int64; var recorded: Bool }
    private let calls = Mutex<[String: Started]>([:])

    /// The system event this change makes, if any, and the user it is recorded under.
    func observe(conversationId: String, participants: [String], now: Int64,
                 admit: (String) -> Bool) -> (event: SystemEvent, senderId: String)? {
        calls.withLock { calls in
            switch (calls[conversationId], participants.first) {
            case (nil, let first?):
                let recorded = admit(first)
                calls[conversationId] = Started(userId: first, at: now, recorded: recorded)
                return recorded ? (SystemEvent(event: .callStarted, actorId: first), first) : nil
            case (let started?, nil):
                calls[conversationId] = nil
                guard started.recorded else { return nil }
                return (SystemEvent(event: .callEnded, durationSeconds: max(0, now - started.at) / 1000), started.userId)
            default:
                return nil
            }
        }
    }
}
