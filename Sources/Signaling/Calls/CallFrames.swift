import ChatAPI
import SFU

/// The payloads of the call frames Parley sends (docs/protocol.md "Calls").
enum CallFrames {
    struct Config: Encodable { var conversationId: String; var callId: String; var iceServers: [ICEServerConfiguration.Server] }
    struct Participant: Encodable { var userId: String; var displayName: String; var tracks: [TrackDTO] }
    struct Participants: Encodable { var conversationId: String; var participants: [Participant] }
    struct ParticipantRef: Encodable { var conversationId: String; var userId: String }
    struct SubscribeOffer: Encodable { var conversationId: String; var sdp: String; var revision: Int }
    struct PublishAnswer: Encodable { var conversationId: String; var sdp: String }
    struct Track: Encodable { var conversationId: String; var userId: String; var track: TrackDTO }
    struct ActiveSpeaker: Encodable { var conversationId: String; var speakers: [String] }
    struct State: Encodable { var conversationId: String; var active: Bool; var participants: [String] }
    struct Left: Encodable { var conversationId: String; var reason: CallLeaveReason }
}

extension CallTrack {
    var dto: TrackDTO { TrackDTO(trackId: trackId, kind: kind.rawValue, source: source.rawValue, muted: muted) }
}

extension CallError {
    /// The `error` frame code and field for each refusal (docs/protocol.md "Errors").
    var apiError: APIError {
        switch self {
        case .notInCall: .conflict("not_in_call", description)
        case .callFull: .conflict("call_full", description)
        case .tooManyCalls: .conflict("limit_reached", description)
        case .unknownTrack: .invalidField("trackId", description)
        case .staleRevision: .invalidField("revision", description)
        case .sdp: .invalidField("sdp", description)
        case .invalidTracks: .invalidField("tracks", description)
        case .alreadyInCall: .conflict("already_in_call", description)
        }
    }
}
