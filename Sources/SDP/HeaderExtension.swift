/// The RTP header extensions Parley negotiates (docs/protocol.md "Calls"); offers carry many
/// more (Chromium about a dozen), which are ignored.
public enum HeaderExtension: String, CaseIterable, Sendable {
    /// RFC 8843 §15.1: the m-section an RTP stream belongs to.
    case mid = "urn:ietf:params:rtp-hdrext:sdes:mid"
    /// RFC 8852 §3.1: the simulcast layer (rid) of an RTP stream.
    case rid = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
    /// RFC 8852 §3.2: the layer an RTX stream repairs.
    case repairedRid = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
    /// Absolute send time for remote bandwidth estimation (REMB).
    case absSendTime = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
    /// Transport-wide sequence numbers for transport-cc feedback.
    case transportWideCC = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
    /// RFC 6464: the audio level of each packet.
    case audioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
}

/// Extension ids (1...14 one-byte, up to 255 two-byte, RFC 8285 §5) negotiated for one
/// m-section; 0 means not negotiated.
public struct HeaderExtensionMap: Sendable, Equatable {
    public var mid: UInt8 = 0
    public var rid: UInt8 = 0
    public var repairedRid: UInt8 = 0
    public var absSendTime: UInt8 = 0
    public var transportWideCC: UInt8 = 0
    public var audioLevel: UInt8 = 0

    public init() {}

    public subscript(_ e: HeaderExtension) -> UInt8 {
        get {
            switch e {
            case .mid: mid
            case .rid: rid
            case .repairedRid: repairedRid
            case .absSendTime: absSendTime
            case .transportWideCC: transportWideCC
            case .audioLevel: audioLevel
            }
        }
        set {
            switch e {
            case .mid: mid = newValue
            case .rid: rid = newValue
            case .repairedRid: repairedRid = newValue
            case .absSendTime: absSendTime = newValue
            case .transportWideCC: transportWideCC = newValue
            case .audioLevel: audioLevel = newValue
            }
        }
    }
}
