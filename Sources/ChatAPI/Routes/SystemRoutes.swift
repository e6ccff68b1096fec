import Foundation
import Hummingbird

/// Health, readiness and the OpenAPI document.
public struct SystemRoutes: Sendable {
    let database: Database

    struct Status: Encodable { var status: String }

    /// The hand-written OpenAPI 3.1 description served at `/openapi.yaml` (`openapi.yaml` in
    /// this folder), compiled into the binary by the EmbedFiles plugin: nothing is looked up
    /// on disk at run time, so an installed binary serves it as the build tree does.
    public static let openAPIDocument: String = {
        let base64 = EmbeddedOpenAPI.files.first { $0.path == "/openapi.yaml" }?.base64 ?? ""
        return Data(base64Encoded: base64).map { String(decoding: $0, as: UTF8.self) } ?? ""
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
