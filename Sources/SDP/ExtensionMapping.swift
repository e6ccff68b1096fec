/// One `a=extmap:<id>[/<direction>] <uri> [<attributes>]` line (RFC 8285 §7).
public struct ExtensionMapping: Sendable, Equatable {
    public var id: UInt8
    public var direction: SDPDirection?
    public var uri: String

    public init(id: UInt8, direction: SDPDirection? = nil, uri: String) {
        self.id = id
        self.direction = direction
        self.uri = uri
    }

    public init(parsing value: String, mid: String?) throws(SDPError) {
        let parts = value.split(separator: " ", omittingEmptySubsequences: true)
        let idParts = parts.first?.split(separator: "/", omittingEmptySubsequences: false) ?? []
        // Ids 1-255 (RFC 8285 §5); 4096-4351 only appear in answers and are not accepted here.
        guard parts.count >= 2, idParts.count <= 2, let idText = idParts.first, let id = UInt8(idText), id != 0 else {
            throw .malformedAttribute(mid: mid, attribute: "extmap:" + value.prefix(80), reason: "needs '<id 1-255>[/<direction>] <uri>'")
        }
        var direction: SDPDirection?
        if idParts.count == 2 {
            guard let parsed = SDPDirection(rawValue: String(idParts[1])) else {
                throw .malformedAttribute(mid: mid, attribute: "extmap:" + value.prefix(80), reason: "unknown direction")
            }
            direction = parsed
        }
        self.init(id: id, direction: direction, uri: String(parts[1]))
    }

    public var value: String {
        if let direction { "\(id)/\(direction.rawValue) \(uri)" } else { "\(id) \(uri)" }
    }

    /// All `a=extmap` lines of a section.
    public static func all(in section: MediaSection) throws(SDPError) -> [ExtensionMapping] {
        var out: [ExtensionMapping] = []
        for value in section.attributes.values(of: "extmap") {
            out.append(try ExtensionMapping(parsing: value, mid: section.mid))
        }
        return out
    }
}
