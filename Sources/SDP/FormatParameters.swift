/// The `a=fmtp` parameter list of one payload type, `key=value;key=value` (RFC 8866 §6.15;
/// the `;`-separated form that RFC 6184 §8.1, RFC 7587 §7 and RFC 4588 §8.6 use). Keys compare
/// case-insensitively.
public struct FormatParameters: Sendable, Equatable {
    public var pairs: [(key: String, value: String)]

    public init(_ text: String) {
        pairs = []
        for item in text.split(separator: ";", omittingEmptySubsequences: true) {
            let trimmed = item.spacesTrimmed
            if let equals = trimmed.firstIndex(of: "=") {
                pairs.append((trimmed[..<equals].lowercased(), String(trimmed[trimmed.index(after: equals)...])))
            } else if !trimmed.isEmpty {
                pairs.append((trimmed.lowercased(), ""))
            }
        }
    }

    public subscript(_ key: String) -> String? {
        pairs.first { $0.key == key }?.value
    }

    /// Only the named keys, in the order they were given.
    public func keeping(_ keys: Set<String>) -> String {
        pairs.filter { keys.contains($0.key) }.map { "\($0.key)=\($0.value)" }.joined(separator: ";")
    }

    public static func == (a: FormatParameters, b: FormatParameters) -> Bool {
        a.pairs.elementsEqual(b.pairs) { $0.key == $1.key && $0.value == $1.value }
    }
}
