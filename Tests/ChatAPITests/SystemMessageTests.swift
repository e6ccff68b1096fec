import ChatAPI
import ChatTestSupport
import Foundation
import Hummingbird
import Testing

/// System messages: a member added, removed or leaving and a title change each leave a
/// `kind: "system"` message in the history with its structured `system` field, announced as
/// `message.new`; creating a conversation records none; nobody edits them. (Calls starting and
/// ending: SignalingTests' CallHistoryTests.)
@Suite("System messages")
struct SystemMessageTests {
    static func systems(_ history: [[String: Any]]) -> [[String: Any]] {
        history.filter { $0["kind"] as? String == "system" }
    }

    @Test("creating a group or a DM records nothing; user messages are kind user", arguments: TestBackend.allCases)
    func creationRecordsNothing(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob")
            let group = try await api.createGroup(ada, members: [bob])
            #expect(try await api.history(group, as: ada).isEmpty)
            let dm = try #require(try await api.request(.post, "/conversations", as: ada, json: ["kind": "dm", "userId": bob.id])
                .string("id"))
            #expect(try await api.history(dm, as: ada).isEmpty)
            let sent = try await api.send("hi", in: group, as: bob)
            #expect(sent.string("kind") == "user" && sent["system"] == nil)
            #expect((sent["sender"] as? [String: Any])?["kind"] as? String == "user")
        }
    }

    @Test("adding, renaming, removing and leaving each record a system message, announced as message.new",
          arguments: TestBackend.allCases)
    func eachEvent(_ backend: TestBackend) async throws {
        let events = RecordingEvents()
        try await withAPI(backend, events: events.sink) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob"), cy = try await api.signUp("Cy")
            let group = try await api.createGroup(ada, members: [bob])
            #expect(try await api.request(.post, "/conversations/\(group)/members", as: ada, json: ["userId": cy.id]).status == .created)
            #expect(try await api.request(.patch, "/conversations/\(group)", as: ada, json: ["title": "Renamed"]).status == .ok)
            #expect(try await api.request(.delete, "/conversations/\(group)/members/\(cy.id)", as: ada).status == .noContent)
            #expect(try await api.request(.delete, "/conversations/\(group)/members/\(bob.id)", as: bob).status == .noContent)

            let recorded = Self.systems(try await api.history(group, as: ada))
            let shapes = recorded.map { message -> [String: String] in
                let system = message["system"] as? [String: Any] ?? [:]
                return system.compactMapValues { "\($0)" }
            }
            #expect(shapes == [
                ["event": "member_added", "actorId": ada.id, "userId": cy.id],
                ["event": "title_changed", "actorId": ada.id, "title": "Renamed"],
                ["event": "member_removed", "actorId": ada.id, "userId": cy.id],
                ["event": "member_left", "actorId": bob.id, "userId": bob.id],
            ])
            #expect(recorded.compactMap { $0["content"] as? String } == [
                "Ada added Cy", "Ada renamed the group to Renamed", "Ada removed Cy", "Bob left",
            ])
            #expect(recorded.allSatisfy { ($0["sender"] as? [String: Any])?["kind"] as? String == "user" })

            let announced = events.newMessages.filter { $0.kind == .system }
            #expect(announced.map(\.system?.event) == [.memberAdded, .titleChanged, .memberRemoved, .memberLeft])
            // The removal is told to those who remain, not to the one removed.
            let removal = events.all.compactMap { event -> [String]? in
                if case .messageNew(let message, let recipients) = event, message.system?.event == .memberRemoved { recipients } else { nil }
            }.first
            #expect(removal.map(Set.init) == Set([ada.id, bob.id]))
            // The conversation list shows the latest one as the last message.
            let list = try await api.request(.get, "/conversations", as: ada)
            let last = (list["conversations"] as? [[String: Any]])?.first?["lastMessage"] as? [String: Any]
            #expect(last?["kind"] as? String == "system")
        }
    }

    @Test("a system message cannot be edited, not even by its actor; a moderator may delete it", arguments: TestBackend.allCases)
    func notEditable(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob"), cy = try await api.signUp("Cy")
            let group = try await api.createGroup(ada, members: [bob])
            _ = try await api.request(.post, "/conversations/\(group)/members", as: ada, json: ["userId": cy.id])
            let id = try #require(Self.systems(try await api.history(group, as: ada)).first?["id"] as? String)
            let edit = try await api.request(.patch, "/conversations/\(group)/messages/\(id)", as: ada, json: ["content": "forged"])
            #expect(edit.status == .forbidden)
            #expect(try await api.request(.delete, "/conversations/\(group)/messages/\(id)", as: bob).status == .forbidden)
            #expect(try await api.request(.delete, "/conversations/\(group)/messages/\(id)", as: ada).status == .noContent)
        }
    }

    @Test("MessageService.postSystem records a call's start and end with its length", arguments: TestBackend.allCases)
    func callEvents(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob")
            let group = try await api.createGroup(ada, members: [bob])
            try await api.services.messages.postSystem(SystemEvent(event: .callStarted, actorId: ada.id), in: group, senderId: ada.id)
            try await api.services.messages.postSystem(SystemEvent(event: .callEnded, durationSeconds: 125), in: group, senderId: ada.id)
            let recorded = Self.systems(try await api.history(group, as: bob))
            #expect(recorded.compactMap { $0["content"] as? String } == ["Ada started a call", "Call ended (2 min 5 s)"])
            #expect((recorded.last?["system"] as? [String: Any])?["durationSeconds"] as? Int == 125)
            #expect((recorded.last?["system"] as? [String: Any])?["actorId"] == nil)
        }
    }
}
