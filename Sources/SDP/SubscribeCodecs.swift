/// Parley's own payload types for what it sends to subscribers. Publishers pick their own
/// payload types; the forwarding engine rewrites them to these, so every subscribe offer is the
/// same whoever published.
public enum SubscribeCodecs {
    public static let opus: UInt8 = 111
    public static let vp8: UInt8 = 96, vp8RTX: UInt8 = 97
    public static let vp9: UInt8 = 98, vp9RTX: UInt8 = 99
    public static let h264: UInt8 = 102, h264RTX: UInt8 = 103
    /// Feedback Parley accepts from subscribers for video: REMB for the layer choice, FIR/PLI
    /// keyframe requests (RFC 5104 §4.3.1, RFC 4585 §6.3.1) and NACK (RFC 4585 §6.2.1).
    public static let videoFeedback = ["goog-remb", "ccm fir", "nack", "nack pli"]

    /// Parley's payload types for forwarding `published`: opus 111; VP8 96 (rtx 97); VP9 98
    /// (rtx 99); H264 102 (rtx 103). The fmtp parameters that describe the stream are copied from
    /// the publisher (all of Opus's; H.264 profile-level-id, packetization-mode and
    /// level-asymmetry-allowed; VP9 profile-id); VP8's max-fs/max-fr describe what the publisher
    /// can receive and are dropped. Video always gets RTX: Parley answers NACKs from its cache.
    public static func codec(forwarding published: RTPCodec) -> RTPCodec {
        let parameters = FormatParameters(published.fmtp)
        switch published.name {
        case .opus:
            return RTPCodec(name: .opus, payloadType: opus, clockRate: 48000, channels: 2, fmtp: published.fmtp, feedback: [])
        case .vp8:
            return RTPCodec(name: .vp8, payloadType: vp8, fmtp: "", rtxPayloadType: vp8RTX, feedback: videoFeedback)
        case .vp9:
            return RTPCodec(
                name: .vp9, payloadType: vp9, fmtp: parameters.keeping(["profile-id"]), rtxPayloadType: vp9RTX,
                feedback: videoFeedback)
        case .h264:
            return RTPCodec(
                name: .h264, payloadType: h264,
                fmtp: parameters.keeping(["level-asymmetry-allowed", "packetization-mode", "profile-level-id"]),
                rtxPayloadType: h264RTX, feedback: videoFeedback)
        }
    }
}
