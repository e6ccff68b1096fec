import SDP

/// One track a participant publishes, as the call signaling knows it (docs/protocol.md, a track:
/// `{trackId, kind, source, muted}`), with the negotiated media the engine forwards.
public struct CallTrack: Sendable, Equatable {
    /// The id on the wire, unique in the call; subscribers see it in `a=msid:<userId> <trackId>`.
    public var trackId: String
    /// The engine's id for it.
    public var id: TrackID
    public var source: TrackSource
    public var muted: Bool
    public var media: PublishedMedia

    public var kind: MediaKind { media.kind }
}
