/// One `a=` line (RFC 8866 §5.13): a property attribute `a=<name>` or a value attribute
/// `a=<name>:<value>`. The name is kept as written; lookups compare it exactly, as attribute
/// names are case-sensitive in practice (every WebRTC stack writes them in lowercase).
public struct SDPAttribute: Sendable, Equatable {
    public var name: String
    public var value: String?

    public init(_ name: String, _ value: String? = nil) {
        self.name = name
        self.value = value
    }

    /// Parses the text after `a=`.
    public init(parsing text: Substring) {
        if let colon = text.firstIndex(of: ":") {
            name = String(text[..<colon])
            value = String(text[text.index(after: colon)...])
        } else {
            name = String(text)
            value = nil
        }
    }

    /// The line without its line ending, e.g. `a=rtcp-mux` or `a=mid:0`.
    public var line: String {
        if let value { "a=\(name):\(value)" } else { "a=\(name)" }
    }
}

/// Lookups shared by the session and media levels.
extension Array where Element == SDPAttribute {
    /// The value of the first attribute named `name`, or nil (also nil for a property attribute).
    public func value(of name: String) -> String? {
        first { $0.name == name }?.value
    }

    /// All values of the attributes named `name`, in order.
    public func values(of name: String) -> [String] {
        compactMap { $0.name == name ? $0.value : nil }
    }

    /// Whether an attribute named `name` is present.
    public func has(_ name: String) -> Bool {
        contains { $0.name == name }
    }
}
