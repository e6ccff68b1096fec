/// Chooses the codec Parley receives in a publish m-section (docs/protocol.md "Calls").
///
/// Audio: Opus/48000/2 (RFC 7587 §7). Video, in Parley's order of preference, whatever order
/// the offer lists them in: VP8 (RFC 7741), then H.264 Constrained Baseline with
/// packetization-mode=1 (RFC 6184, RFC 7742 §6.2), then VP9 profile 0. Within one codec the
/// offer's first matching payload type wins (RFC 3264 §5.1: the offer's order is its preference).
public enum CodecSelection {
    /// rtcp-fb values Parley keeps in a publish answer. goog-remb is dropped: Parley sends
    /// transport-cc feedback to publishers instead of REMB. transport-cc itself is kept only when
    /// the transport-wide-cc header extension is accepted too.
    public static let keptFeedback: [String] = ["nack", "nack pli", "ccm fir", "transport-cc"]

    /// The chosen codec with the peer's payload types, or nil when none fits.
    public static func choose(kind: MediaKind, from payloads: [OfferedPayload], transportCC: Bool) -> RTPCodec? {
        let order: [CodecName] = kind == .audio ? [.opus] : [.vp8, .h264, .vp9]
        for name in order {
            guard let payload = payloads.first(where: { accepts(name, $0) }) else { continue }
            let feedback = payload.feedback.filter { value in
                keptFeedback.contains(value) && (value != "transport-cc" || transportCC)
            }
            let rtx = payloads.first { p in
                p.encodingName?.lowercased() == "rtx" && p.clockRate == payload.clockRate
                    && FormatParameters(p.fmtp)["apt"] == String(payload.payloadType)
            }
            return RTPCodec(
                name: name, payloadType: payload.payloadType, clockRate: payload.clockRate,
                channels: name == .opus ? 2 : 1, fmtp: payload.fmtp, rtxPayloadType: rtx?.payloadType,
                feedback: feedback)
        }
        return nil
    }

    /// Whether `payload` is a variant of `name` Parley can forward.
    public static func accepts(_ name: CodecName, _ payload: OfferedPayload) -> Bool {
        guard let encoding = payload.encodingName, CodecName(rtpmapName: encoding) == name else { return false }
        let parameters = FormatParameters(payload.fmtp)
        switch name {
        case .opus:
            return payload.clockRate == 48000 && payload.channels == 2
        case .vp8:
            return payload.clockRate == 90000
        case .h264:
            // packetization-mode absent means 0 (single NAL unit, RFC 6184 §8.1), which cannot carry
            // the FU-A fragments browsers send for larger frames.
            guard payload.clockRate == 90000, parameters["packetization-mode"] == "1" else { return false }
            return H264Profile.of(parameters)?.isConstrainedBaseline ?? false
        case .vp9:
            let profile = parameters["profile-id"]
            return payload.clockRate == 90000 && (profile == nil || profile == "0")
        }
    }
}
