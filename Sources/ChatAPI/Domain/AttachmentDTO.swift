/// A file sent with a message, as the API shows it (docs/protocol.md "Attachments"). `url` is
/// Parley's own `GET /attachments/{id}`, which only members of the conversation reach.
public struct AttachmentDTO: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var size: Int64
    public var contentType: String
    public var width: Int?
    public var height: Int?
    public var url: String

    public init(id: String, name: String, size: Int64, contentType: String, width: Int?, height: Int?) {
        self.id = id
        self.name = name
        self.size = size
        self.contentType = contentType
        self.width = width
        self.height = height
        self.url = "/attachments/\(id)"
    }

    enum CodingKeys: String, CodingKey { case id, name, size, contentType, width, height, url }

    /// `width` and `height` are always present: null when unknown (not an image).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(size, forKey: .size)
        try c.encode(contentType, forKey: .contentType)
        try c.encode(width, forKey: .width)
        try c.encode(height, forKey: .height)
        try c.encode(url, forKey: .url)
    }
}
