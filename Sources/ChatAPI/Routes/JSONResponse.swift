import Hummingbird
import NIOCore

/// Builds a JSON response with an explicit status (201 vs 200 matters in this API).
public func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
    let data = try JSONCoding.encoder.encode(value)
    return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

extension Response {
    static var noContent: Response { Response(status: .noContent) }
}

extension Parameters {
    /// A path parameter that the route pattern guarantees. Ids never hold NUL (which
    /// PostgreSQL text cannot take), so one that does names nothing.
    func path(_ name: String) throws -> String {
        guard let value = self.get(name), !value.utf8.contains(0) else { throw APIError.notFound() }
        return value
    }
}
