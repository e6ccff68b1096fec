import ChatAPI
import ChatTestSupport
import Foundation
import Hummingbird
import Testing

@Suite("System routes and unknown routes")
struct SystemRouteTests {
    @Test("healthz, readyz and openapi.yaml answer", arguments: TestBackend.allCases)
    func health(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let health = try await api.request(.get, "/healthz")
            #expect(health.status == .ok)
            #expect(health.string("status") == "ok")
            #expect(try await api.request(.get, "/readyz").status == .ok)
            let spec = try await api.request(.get, "/openapi.yaml")
            #expect(spec.status == .ok)
            let text = String(buffer: spec.body)
            #expect(text.hasPrefix("openapi: 3.1"))
            for path in ["/auth/register", "/conversations/{id}/messages", "/conversations/{id}/call", "/readyz"] {
                #expect(text.contains("  \(path):"), "openapi.yaml describes \(path)")
            }
        }
    }

    @Test("readyz is 503 when the database is gone")
    func notReady() async throws {
        let database = try await TestBackend.sqlite.makeDatabase()
        try await database.shutdown()
        let services = await ChatServices(database: database, jwtSecret: String(repeating: "k", count: 32), bcryptCost: 4)
        let app = Application(router: ChatRouter.make(services: services))
        try await app.test(.router) { client in
            let reply = try await client.execute(uri: "/readyz", method: .get)
            #expect(reply.status == .serviceUnavailable)
        }
    }

    @Test("an unknown route is a 404 with the error body", arguments: TestBackend.allCases)
    func unknownRoute(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let reply = try await api.request(.get, "/nope/nothing")
            #expect(reply.status == .notFound)
            #expect(reply.errorCode == "not_found")
            #expect(reply.headers[.contentType]?.hasPrefix("application/json") == true)
        }
    }
}
