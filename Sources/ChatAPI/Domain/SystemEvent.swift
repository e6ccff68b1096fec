import Foundation

/// What a system message records (docs/protocol.md "System messages"): the event and the people,
/// title or length it concerns. Stored as JSON beside the message, so history shows it as it
/// was even after names change.
public struct SystemEvent: Codable, Sendable, Equatable {
    public enum Event: String, Codable, Sendable {
        case memberAdded = "member_added"
        case memberRemoved = "member_removed"
        case memberLeft = "member_left"
        case titleChanged = "title_changed"
        case callStarted = "call_started"
        case callEnded = "call_ended"
    }

    public var event: Event
    /// Who did it (added, removed, renamed, started the call); absent for a call's end.
    public var actorId: String?
    /// Whom it concerns (the member added, removed or leaving).
    public var userId: String?
    /// The new title of a `title_changed`.
    public var title: String?
    /// How long a call lasted, for `call_ended`.
    public var durationSeconds: Int64?

    public init(event: Event, actorId: String? = nil, userId: String? = nil, title: String? = nil, durationSeconds: Int64? = nil) {
        self.event = event
        self.actorId = actorId
        self.userId = userId
        self.title = title
        self.durationSeconds = durationSeconds
    }

    /// The JSON kept in `messages.system_event`.
    var stored: String {
        String(decoding: (try? JSONCoding.encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    static func decode(stored: String) -> SystemEvent? {
        try? JSONCoding.decoder().decode(SystemEvent.self, from: Data(stored.utf8))
    }

    /// The plain-text line a client without special rendering shows as the message's content.
    func summary(actorName: String?, userName: String?) -> String {
        let actor = actorName ?? "Someone", user = userName ?? "someone"
        switch event {
        case .memberAdded: return "\(actor) added \(user)"
        case .memberRemoved: return "\(actor) removed \(user)"
        case .memberLeft: return "\(user) left"
        case .titleChanged: return "\(actor) renamed the group to \(title ?? "")"
        case .callStarted: return "\(actor) started a call"
        case .callEnded:
            let seconds = max(0, durationSeconds ?? 0)
            let length = seconds >= 3600
                ? "\(seconds / 3600) h \(seconds % 3600 / 60) min"
                : seconds >= 60 ? "\(seconds / 60) min \(seconds % 60) s" : "\(seconds) s"
            return "Call ended (\(length))"
        }
    }
}
