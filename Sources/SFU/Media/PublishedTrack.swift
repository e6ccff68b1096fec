import SDP

/// One track a participant publishes (an m-section of its publish connection) and the
/// subscribers it is forwarded to. Confined to the media thread.
final class PublishedTrack {
    let id: TrackID
    let participant: ParticipantID
    unowned let transport: PeerTransport
    let media: PublishedMedia
    let mid: [UInt8]
    let cname: [UInt8]
    let layers: [PublishedLayer]
    var downTracks: [DownTrack] = []
    var audioLevel = AudioLevelAccumulator()
    private let live: LiveObjectCounter

    init(id: TrackID, participant: ParticipantID, transport: PeerTransport, media: PublishedMedia, cname: String,
         live: LiveObjectCounter) {
        self.live = live
        self.cname = Array(cname.utf8.prefix(255))
        self.id = id
        self.participant = participant
        self.transport = transport
        self.media = media
        self.mid = Array(media.mid.utf8)
        let rids: [String?] = media.simulcastRids.isEmpty ? [nil] : Self.qualityOrder(media.simulcastRids)
        layers = rids.map { PublishedLayer(rid: $0, kind: media.kind, clockRate: media.codec.clockRate, live: live) }
        live.counts.tracks += 1
    }

    deinit { live.counts.tracks -= 1 }

    var isVideo: Bool { media.kind == .video }

    /// Layers from the highest quality down: `h`, `m`, `l` (docs/protocol.md) when those are the rids,
    /// otherwise the order of `a=simulcast`.
    static func qualityOrder(_ rids: [String]) -> [String] {
        let rank = ["h": 0, "f": 0, "m": 1, "h2": 1, "l": 2, "q": 2, "h4": 2]
        guard rids.allSatisfy({ rank[$0] != nil }) else { return rids }
        return rids.sorted { rank[$0, default: 9] < rank[$1, default: 9] }
    }

    func layerIndex(rid: UnsafeRawBufferPointer) -> Int? {
        for (index, layer) in layers.enumerated() where layer.rid.count == rid.count {
            if layer.rid.withUnsafeBytes({ $0.elementsEqual(rid) }) { return index }
        }
        return nil
    }

    /// Each layer's bitrate for choosing among them: measured over the last second, or 1 for a
    /// layer that started within it (live, not measured yet), 0 for one not being sent.
    func selectionBitrates(now: ContinuousClock.Instant) -> [Int] {
        layers.map { layer in
            if layer.bitrate > 0 { return layer.bitrate }
            if let at = layer.lastPacketAt, now - at < .seconds(2) { return 1 }
            return 0
        }
    }
}
