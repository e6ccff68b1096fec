/// One remote track in a subscribe offer: an m-section Parley sends on (RFC 8829 §5.2.2).
public struct SubscribeTrack: Sendable, Equatable {
    public var mid: String
    public var kind: MediaKind
    /// With Parley's payload types (`SubscribeCodecs.codec(forwarding:)`).
    public var codec: RTPCodec
    public var ssrc: UInt32
    public var rtxSSRC: UInt32?
    /// The publisher's userId; written as `a=msid:<streamId> <trackId>` (docs/protocol.md "Calls").
    public var streamId: String
    public var trackId: String
    /// false: the track is gone; the section stays (its mid is never reused) with port 0 and
    /// `a=inactive` (RFC 8829 §5.2.2, RFC 8843 §7.5.3).
    public var active: Bool

    public init(
        mid: String, kind: MediaKind, codec: RTPCodec, ssrc: UInt32, rtxSSRC: UInt32? = nil, streamId: String,
        trackId: String, active: Bool = true
    ) {
        self.mid = mid
        self.kind = kind
        self.codec = codec
        self.ssrc = ssrc
        self.rtxSSRC = rtxSSRC
        self.streamId = streamId
        self.trackId = trackId
        self.active = active
    }
}
