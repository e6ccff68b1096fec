import SDP

/// A track a publisher sends, as negotiated in its publish answer.
public struct PublishTrackConfig: Sendable {
    public var id: TrackID
    public var media: PublishedMedia
    /// The RTCP CNAME subscribers see for it (RFC 3550 §6.5.1), the same as in their SDP's
    /// `a=ssrc:... cname:`, so a publisher's audio and video are synchronised together.
    public var cname: String
    public init(id: TrackID, media: PublishedMedia, cname: String) {
        self.id = id
        self.media = media
        self.cname = cname
    }
}

/// One remote track as one subscriber receives it, as offered in its subscribe offer (Parley's
/// payload types, SSRCs and extension ids) and accepted by its answer.
public struct DownTrackConfig: Sendable {
    public var track: TrackID
    public var ssrc: UInt32
    public var rtxSSRC: UInt32?
    public var payloadType: UInt8
    public var rtxPayloadType: UInt8?
    public var absSendTimeId: UInt8
    public var audioLevelId: UInt8
    public var quality: SimulcastQuality

    public init(track: TrackID, ssrc: UInt32, rtxSSRC: UInt32?, payloadType: UInt8, rtxPayloadType: UInt8?,
                absSendTimeId: UInt8, audioLevelId: UInt8, quality: SimulcastQuality) {
        self.track = track
        self.ssrc = ssrc
        self.rtxSSRC = rtxSSRC
        self.payloadType = payloadType
        self.rtxPayloadType = rtxPayloadType
        self.absSendTimeId = absSendTimeId
        self.audioLevelId = audioLevelId
        self.quality = quality
    }
}

/// What the media engine reports to the call signaling (off the media path, a few per second).
public enum MediaEvent: Sendable, Equatable {
    /// DTLS finished and SRTP keys are in place.
    case connected(ParticipantID, PeerRole)
    /// The transport is gone: ICE consent lapsed (RFC 7675), or DTLS failed. The participant
    /// leaves the call (docs/protocol.md "Calls").
    case transportClosed(ParticipantID, PeerRole, reason: String)
    /// Who is speaking in a call, loudest first; sent when it changes.
    case activeSpeakers(callId: String, [ParticipantID])
}
