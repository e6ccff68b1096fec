/// One m-section of a publish offer that sends media to Parley, as negotiated.
public struct PublishedMedia: Sendable, Equatable {
    public var mid: String
    public var kind: MediaKind
    /// The chosen codec, with the peer's payload types.
    public var codec: RTPCodec
    /// The peer's ids for the accepted header extensions.
    public var extensions: HeaderExtensionMap
    /// The rids of `a=simulcast:send`, in order, paused (`~`) ones dropped; [] without simulcast.
    public var simulcastRids: [String]
    /// The primary SSRC: the first of `a=ssrc-group:FID`, else the first `a=ssrc` (nil with simulcast).
    public var ssrc: UInt32?
    /// The second SSRC of `a=ssrc-group:FID` (RFC 4588 §8.6, RFC 5576 §4.2).
    public var rtxSSRC: UInt32?
    /// From `a=msid:<stream> <track>` (RFC 8830 §2), or else `a=ssrc:<n> msid:`.
    public var streamId: String?
    public var trackId: String?

    public init(
        mid: String, kind: MediaKind, codec: RTPCodec, extensions: HeaderExtensionMap, simulcastRids: [String] = [],
        ssrc: UInt32? = nil, rtxSSRC: UInt32? = nil, streamId: String? = nil, trackId: String? = nil
    ) {
        self.mid = mid
        self.kind = kind
        self.codec = codec
        self.extensions = extensions
        self.simulcastRids = simulcastRids
        self.ssrc = ssrc
        self.rtxSSRC = rtxSSRC
        self.streamId = streamId
        self.trackId = trackId
    }
}
