/// The codecs Parley forwards (docs/protocol.md "Calls"). Raw values are the lowercase
/// `a=rtpmap` encoding names; SDP compares them case-insensitively (RFC 4855 §3).
public enum CodecName: String, Sendable, CaseIterable {
    case opus, vp8, h264, vp9

    /// The encoding name as browsers write it in `a=rtpmap`.
    public var rtpmapName: String {
        switch self {
        case .opus: "opus"
        case .vp8: "VP8"
        case .h264: "H264"
        case .vp9: "VP9"
        }
    }

    public var kind: MediaKind { self == .opus ? .audio : .video }

    /// Matches an rtpmap encoding name, ignoring case.
    public init?(rtpmapName: some StringProtocol) {
        self.init(rawValue: rtpmapName.lowercased())
    }
}

/// One negotiated RTP codec of an m-section: payload type, clock, parameters, its RTX payload
/// type (RFC 4588) and the RTCP feedback (RFC 4585) both sides agreed on.
public struct RTPCodec: Sendable, Equatable {
    public var name: CodecName
    public var payloadType: UInt8
    /// 48000 for Opus (RFC 7587 §7), 90000 for video (RFC 7741 §6.1, RFC 6184 §8.1).
    public var clockRate: UInt32
    /// 2 for Opus (RFC 7587 §7 always says 2), 1 for video.
    public var channels: UInt8
    /// The `a=fmtp` parameters of this payload type as negotiated, "" if none.
    public var fmtp: String
    /// The RTX payload type whose `apt=` is this codec, if negotiated (RFC 4588 §8.6).
    public var rtxPayloadType: UInt8?
    /// The negotiated `a=rtcp-fb` values, e.g. `nack`, `nack pli`, `ccm fir`, `transport-cc`.
    public var feedback: [String]

    public init(
        name: CodecName, payloadType: UInt8, clockRate: UInt32? = nil, channels: UInt8? = nil, fmtp: String = "",
        rtxPayloadType: UInt8? = nil, feedback: [String] = []
    ) {
        self.name = name
        self.payloadType = payloadType
        self.clockRate = clockRate ?? (name == .opus ? 48000 : 90000)
        self.channels = channels ?? (name == .opus ? 2 : 1)
        self.fmtp = fmtp
        self.rtxPayloadType = rtxPayloadType
        self.feedback = feedback
    }

    /// The `a=rtpmap` value, e.g. `opus/48000/2` or `VP8/90000`.
    public var rtpmapValue: String {
        name == .opus || channels > 1 ? "\(name.rtpmapName)/\(clockRate)/\(channels)" : "\(name.rtpmapName)/\(clockRate)"
    }

    /// The codec's `a=rtpmap`, `a=rtcp-fb`, `a=fmtp` lines and those of its RTX payload type.
    public var attributes: [SDPAttribute] {
        var out = [SDPAttribute("rtpmap", "\(payloadType) \(rtpmapValue)")]
        for value in feedback { out.append(SDPAttribute("rtcp-fb", "\(payloadType) \(value)")) }
        if !fmtp.isEmpty { out.append(SDPAttribute("fmtp", "\(payloadType) \(fmtp)")) }
        if let rtx = rtxPayloadType {
            out.append(SDPAttribute("rtpmap", "\(rtx) rtx/\(clockRate)"))
            out.append(SDPAttribute("fmtp", "\(rtx) apt=\(payloadType)"))
        }
        return out
    }

    /// The m-line formats: the codec's payload type, then its RTX payload type.
    public var formats: [String] {
        [String(payloadType)] + (rtxPayloadType.map { [String($0)] } ?? [])
    }
}
