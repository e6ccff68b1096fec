/// Names one ICE transport (one peer connection's component) inside an `ICELiteAgent`. A small
/// integer, so that looking up the transport of a media packet hashes 4 bytes, not a String.
public struct ICETransportID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public var description: String { "ice#\(rawValue)" }
}
