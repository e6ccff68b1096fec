/// Names one participant of one call inside the media engine: a small integer, so the media
/// path hashes 8 bytes rather than strings. The call signaling keeps the mapping to user ids.
public struct ParticipantID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "participant#\(rawValue)" }
}

/// Names one published track inside the media engine (the wire `trackId` is a string the call
/// signaling maps to this).
public struct TrackID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "track#\(rawValue)" }
}

/// Which of a participant's two peer connections (docs/protocol.md "Calls").
public enum PeerRole: String, Sendable {
    /// The client offers its sending transceivers; Parley receives.
    case publish
    /// Parley offers the other participants' tracks; the client receives.
    case subscribe
}
