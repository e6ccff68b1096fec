import Foundation
import Synchronization
@testable import Signaling

/// An outbox that keeps what the call signaling sends, for a test to read back: frames to a
/// connection, and announcements to a conversation's members.
final class RecordingOutbox: FrameOutbox {
    /// A frame as a client reads it.
    struct Frame {
        var type: String
        var id: String?
        var data: [String: Any]

        init(_ frame: ServerFrame) {
            let object = (try? JSONSerialization.jsonObject(with: Data(frame.text.utf8))) as? [String: Any] ?? [:]
            type = object["type"] as? String ?? ""
            id = object["id"] as? String
            data = object["data"] as? [String: Any] ?? [:]
        }
    }

    private let sent = Mutex<[(connection: UInt64, frame: ServerFrame)]>([])
    private let announced = Mutex<[(conversationId: String, frame: ServerFrame)]>([])

    func send(_ frame: ServerFrame, to connection: Connection) {
        sent.withLock { $0.append((connection.id, frame)) }
    }

    func sendToMembers(of conversationId: String, _ frame: ServerFrame) async {
        announced.withLock { $0.append((conversationId, frame)) }
    }

    /// What `connection` was sent since the last `take` of it, in order; it is forgotten.
    func take(_ connection: Connection) -> [Frame] {
        sent.withLock { sent in
            let mine = sent.filter { $0.connection == connection.id }.map(\.frame)
            sent.removeAll { $0.connection == connection.id }
            return mine.map(Frame.init)
        }
    }

    /// The announcements to members since the last call, in order; they are forgotten.
    func takeAnnouncements() -> [(conversationId: String, frame: Frame)] {
        announced.withLock { announced in
            defer { announced.removeAll() }
            return announced.map { ($0.conversationId, Frame($0.frame)) }
        }
    }
}
