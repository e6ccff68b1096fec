import Foundation
import Hummingbird

/// Health, readiness and the OpenAPI document.
public struct SystemRoutes: Sendable {
    let database: Database

    struct Status: Encodable { var status: String }

    /// The hand-written OpenAPI 3.1 description served at `/openapi.yaml`.
    public static let openAPIDocument: String = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"),
              let text = try? String(contentsOf: url, encoding: .utf8)
        else { return "openapi: 3.1.0\n" }
        return text
    }()

    public func add(to router: Router<ParleyRequestContext>) {
        router.get("healthz") { _, _ in try jsonResponse(Status(status: "ok")) }
        router.get("readyz") { _, _ in
            await database.ping()
                ? try jsonResponse(Status(status: "ok"))
                : try jsonResponse(Status(status: "unavailable"), status: .serviceUnavailable)
        }
        router.get("openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                     body: .init(byteBuffer: .init(string: Self.openAPIDocument)))
        }
    }
}
