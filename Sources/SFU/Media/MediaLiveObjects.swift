/// How many of each object the media engine holds now. Transports, tracks, layers, packet
/// caches and down-tracks count themselves in their initializer and deinitializer, so a count
/// that stays above zero after everyone left is an object still referenced (a leak), not an
/// entry forgotten in a table. SSRC bindings and SRTP streams are counted by their transport as
/// they are made and removed, and given back whole when the transport is freed.
///
/// Reported in `/metrics` as `parley_media_live_objects{kind="..."}`.
public struct MediaLiveObjects: Sendable, Equatable, CustomStringConvertible {
    /// Peer transports (two per participant once both connections are open).
    public var transports = 0
    /// Published tracks, and their layers (one per simulcast encoding, else one).
    public var tracks = 0
    public var layers = 0
    /// Packet caches for NACKs, made when a video layer's first packet arrives.
    public var packetCaches = 0
    /// libsrtp streams (one per SSRC a transport's SRTP session has seen, either direction).
    public var srtpStreams = 0
    /// SSRC -> layer bindings of publish transports.
    public var ssrcBindings = 0
    /// Down-tracks: one track as one subscriber receives it (an accepted subscribe m-section).
    public var subscribeSlots = 0

    public init() {}

    public static let zero = MediaLiveObjects()

    public var description: String {
        "transports \(transports), tracks \(tracks), layers \(layers), packet caches \(packetCaches), "
            + "SRTP streams \(srtpStreams), SSRC bindings \(ssrcBindings), subscribe slots \(subscribeSlots)"
    }

    /// Names and values, for the gauges.
    var all: [(kind: String, count: Int)] {
        [("transports", transports), ("tracks", tracks), ("layers", layers), ("packet_caches", packetCaches),
         ("srtp_streams", srtpStreams), ("ssrc_bindings", ssrcBindings), ("subscribe_slots", subscribeSlots)]
    }
}

/// The engine's running `MediaLiveObjects`, shared with the objects it counts (which keep it
/// alive for their deinitializers). Confined to the media thread.
final class LiveObjectCounter {
    var counts = MediaLiveObjects()
}
