import ChatAPI
import ObjectStorage
import ChatTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// A response as the tests look at it: status, headers and the JSON body as a dictionary.
struct Reply: Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: ByteBuffer

    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
    }
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    var errorField: String? { (json["error"] as? [String: Any])?["field"] as? String }
    subscript(key: String) -> Any? { json[key] }
    func string(_ key: String) -> String? { json[key] as? String }
}

/// A signed-up person: their id and current tokens.
struct Person: Sendable {
    var id: String
    var accessToken: String
    var refreshToken: String
}

/// Drives the REST API through Hummingbird's router test client.
struct TestAPI: Sendable {
    let send: @Sendable (String, HTTPRequest.Method, HTTPFields, ByteBuffer?) async throws -> TestResponse
    let clock: TestClock
    let services: ChatServices

    func request(_ method: HTTPRequest.Method, _ path: String, as person: Person? = nil,
                 json: [String: Any]? = nil, raw: String? = nil, headers extra: HTTPFields = [:]) async throws -> Reply {
        var headers = extra
        if let person { headers[.authorization] = "Bearer \(person.accessToken)" }
        var body: ByteBuffer?
        if let json {
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
        } else if let raw {
            body = ByteBuffer(string: raw)
        }
        if body != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        let response = try await send(path, method, headers, body)
        return Reply(status: response.status, headers: response.headers, body: response.body)
    }

    /// Sends bytes as they are (an upload), with `headers`.
    func put(_ path: String, bytes: [UInt8], headers: HTTPFields) async throws -> Reply {
        let response = try await send(path, .put, headers, ByteBuffer(bytes: bytes))
        return Reply(status: response.status, headers: response.headers, body: response.body)
    }

    /// Registers someone new and returns them signed in.
    func signUp(_ name: String, email: String? = nil, password: String = "correct horse battery") async throws -> Person {
        let reply = try await request(.post, "/auth/register", json: [
            "email": email ?? "\(name.lowercased())-\(UUID().uuidString.prefix(8))@example.com",
            "password": password, "displayName": name,
        ])
        #expect(reply.status == .created, "register \(name): \(reply.status)")
        return try Self.person(from: reply)
    }

    static func person(from reply: Reply) throws -> Person {
        let user = try #require(reply["user"] as? [String: Any])
        return Person(id: try #require(user["id"] as? String),
                      accessToken: try #require(reply.string("accessToken")),
                      refreshToken: try #require(reply.string("refreshToken")))
    }

    func createGroup(_ owner: Person, title: String = "Team", members: [Person]) async throws -> String {
        let reply = try await request(.post, "/conversations", as: owner,
                                      json: ["kind": "group", "title": title, "memberIds": members.map(\.id)])
        #expect(reply.status == .created)
        return try #require(reply.string("id"))
    }

    func send(_ text: String, in conversation: String, as person: Person, clientMsgId: String? = nil) async throws -> Reply {
        var body: [String: Any] = ["content": text]
        if let clientMsgId { body["clientMsgId"] = clientMsgId }
        return try await request(.post, "/conversations/\(conversation)/messages", as: person, json: body)
    }
}

/// Runs `body` against a fresh database of `backend` with the REST router.
func withAPI(_ backend: TestBackend, rateLimit: RateLimiter.Rule? = nil, origins: [String] = [],
             limits: ChatLimits = .unlimited, passwordGate: WorkGate = .forPasswordHashing(),
             presence: PresenceLookup = .nobody, metrics: MetricsAccess? = nil,
             registration: RegistrationPolicy = .open, events: ChatEventSink = .discard, publicURL: String? = nil,
             clock: TestClock = TestClock(), storage: (any AttachmentStorage)? = nil,
             _ body: @Sendable (TestAPI) async throws -> Void) async throws {
    let database = try await backend.makeDatabase()
    do {
        let services = await ChatServices(
            database: database, jwtSecret: "test-secret-that-is-at-least-32-bytes-long", bcryptCost: 4,
            clock: clock.wallClock, presence: presence, events: events, limits: limits, passwordGate: passwordGate,
            registration: registration, storage: storage)
        let router = ChatRouter.make(services: services, options: ChatHTTPOptions(
            authRateLimit: rateLimit, origins: OriginPolicy(allowed: origins), publicURL: publicURL))
        metrics?.addRoute(to: router) { Array("parley_test_metric 1\n".utf8) }
        let app = Application(router: router)
        try await app.test(.router) { client in
            let api = TestAPI(
                send: { uri, method, headers, body in
                    try await client.execute(uri: uri, method: method, headers: headers, body: body)
                },
                clock: clock, services: services)
            try await body(api)
        }
    } catch {
        try? await database.shutdown()
        throw error
    }
    try await database.shutdown()
}
