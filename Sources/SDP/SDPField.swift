/// A non-attribute SDP line other than `v=`, `o=`, `s=` and `m=`, kept in order so a parsed
/// description serializes back as it was: `c=`, `b=`, `t=`, `i=`, `u=`, `e=`, `p=`, `r=`, `z=`,
/// `k=` (RFC 8866 §5).
public struct SDPField: Sendable, Equatable {
    /// The one-letter type, e.g. `c`.
    public var type: Character
    public var value: String

    public init(_ type: Character, _ value: String) {
        self.type = type
        self.value = value
    }

    public var line: String { "\(type)=\(value)" }
}
