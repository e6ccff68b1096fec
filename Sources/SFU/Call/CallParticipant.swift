import ICE
import SDP

/// One person in a call: their two peer connections' local parameters, what they publish,
/// and the state of their subscribe connection's offer/answer exchange.
public struct CallParticipant: Sendable {
    public let userId: String
    public var displayName: String
    public let id: ParticipantID
    /// The WebSocket connection that joined; call events for this participant go to it.
    public let connectionId: UInt64
    public internal(set) var tracks: [CallTrack] = []
    /// Parley's side of the publish connection, made at the first `call.publish`.
    var publish: PeerSide?
    var subscribe: SubscribeState

    struct PeerSide: Sendable {
        var local: LocalTransport
        var credentials: ICECredentials { local.credentials }
    }
}

/// The subscribe connection's negotiation (docs/protocol.md "Calls": the server offers, the client answers,
/// and no new offer goes out before the last one, by revision, is answered).
struct SubscribeState: Sendable {
    var side: CallParticipant.PeerSide
    /// One per remote track offered, in m-line order; a track that went away stays as an
    /// inactive section so later m-lines keep their place (RFC 8829 §5.2.2), until a new track of
    /// its kind takes it over (`CallRoom.refreshOffers`).
    var slots: [SubscribeSlot] = []
    /// The mid of the next section added (mids are never reused for another section).
    var nextMid = 0
    var revision = 0
    /// The revision of the offer sent and not answered yet, and the sections it offered (the
    /// slots may have grown since; the answer is read against what was offered).
    var awaitingAnswer: Int?
    var offered: [SubscribeTrack] = []
    /// The track set changed since the last offer.
    var dirty = false
    /// The transport is opened with the first offer.
    var opened = false
}

struct SubscribeSlot: Sendable {
    var track: SubscribeTrack
    var engineTrack: TrackID
    var accepted = false
    var rtxAccepted = false
    var extensions = HeaderExtensionMap()
    /// The track is gone and an answer accepted the section as inactive: a new track may take it.
    var reusable = false
}
