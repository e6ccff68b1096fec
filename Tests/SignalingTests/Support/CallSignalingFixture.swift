import ChatAPI
import ChatTestSupport
import Logging
import SFU
import Synchronization
import Testing
@testable import Signaling

/// `CallSignaling` alone: real chat services on a fresh SQLite database (the membership check
/// is the real one), a recording outbox and a recording media plane in place of the hub, the
/// bus and the media engine. Ada owns a group with Bob and Cy; Eve is in no conversation.
struct CallSignalingFixture: Sendable {
    let services: ChatServices
    let outbox: RecordingOutbox
    let media: RecordingMediaPlane
    let calls: CallSignaling
    let conversation: String
    let ada: AuthContext, bob: AuthContext, cy: AuthContext, eve: AuthContext

    /// A new WebSocket connection of `caller`, as the hub would register it.
    func connect(_ caller: AuthContext) -> Connection {
        Connection(id: connectionIds.add(1, ordering: .relaxed).oldValue, userId: caller.userId, loginId: caller.loginId,
                   capacity: 64, terminate: {})
    }

    /// Forgets what was sent to `connections`, announced, and asked of the media plane so far:
    /// a test's setup done, what follows is what the step under test did.
    func clear(_ connections: Connection...) {
        for connection in connections { _ = outbox.take(connection) }
        _ = outbox.takeAnnouncements()
        _ = media.take()
    }

    /// Another group, of `owner` and `others`.
    func group(_ owner: AuthContext, with others: [AuthContext]) async throws -> String {
        try await services.conversations.createGroup(title: "Other", memberIds: others.map(\.userId), owner).id
    }

    /// The participant `caller` is in the conversation's call (the group's by default).
    func participant(_ caller: AuthContext, in conversationId: String? = nil) throws -> ParticipantID {
        try #require(try calls.directory.withRoom(conversationId ?? conversation) { room throws(CallError) in
            room.participant(caller.userId)?.id
        })
    }

    /// Who is in the conversation's call now, as `GET /conversations/{id}/call` would say.
    func inCall(_ conversationId: String) -> [String] {
        calls.directory.lookup.state(conversationId).participants.map(\.userId)
    }
}

/// Connection ids, unique across the tests as the hub's are across a server.
private let connectionIds = Atomic<UInt64>(1)

/// The time a test sets, in milliseconds, for the ring timeout.
final class ManualWallClock: Sendable {
    private let milliseconds = Atomic<Int64>(1_800_000_000_000)
    var clock: WallClock { WallClock { [self] in Timestamp(milliseconds: milliseconds.load(ordering: .relaxed)) } }
    func advance(by duration: Duration) {
        milliseconds.add(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000, ordering: .relaxed)
    }
}

func withCallSignaling(maxParticipants: Int = 16, maxCallsPerUser: Int? = 2, ringTimeout: Duration = .seconds(45),
                       clock: WallClock = .system, limits: ChatLimits = .unlimited, _ body: @Sendable (CallSignalingFixture) async throws -> Void) async throws {
    let database = try await TestBackend.sqlite.makeDatabase()
    let directory = CallDirectory()
    let services = await ChatServices(database: database, jwtSecret: "test-secret-that-is-at-least-32-bytes-long", bcryptCost: 4,
                                      calls: directory.lookup, limits: limits, registration: .open)
    func signUp(_ name: String) async throws -> AuthContext {
        let response = try await services.auth.register(email: "\(name.lowercased())@example.com", password: "password123", displayName: name)
        return try await services.auth.authenticate(bearer: response.accessToken)
    }
    do {
        let ada = try await signUp("Ada"), bob = try await signUp("Bob"), cy = try await signUp("Cy"), eve = try await signUp("Eve")
        let conversation = try await services.conversations.createGroup(title: "Team", memberIds: [bob.userId, cy.userId], ada).id
        let outbox = RecordingOutbox(), media = RecordingMediaPlane()
        var logger = Logger(label: "call-signaling-test")
        logger.logLevel = .warning
        let (events, _) = AsyncStream<MediaEvent>.makeStream()
        let calls = CallSignaling(directory: directory, media: media, events: events, outbox: outbox, services: services,
                                  iceServers: ICEServerConfiguration(), maxParticipants: maxParticipants,
                                  maxCallsPerUser: maxCallsPerUser, ringTimeout: ringTimeout, clock: clock, logger: logger)
        try await body(CallSignalingFixture(services: services, outbox: outbox, media: media, calls: calls, conversation: conversation,
                                            ada: ada, bob: bob, cy: cy, eve: eve))
    } catch {
        try? await database.shutdown()
        throw error
    }
    try await database.shutdown()
}
