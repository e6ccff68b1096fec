import ICE
import SDP
import SFU

/// What the call signaling asks of the media engine: Parley's side of a new peer connection,
/// and the changes to each participant's transports and forwarding. A protocol so
/// `CallSignaling` can be tested without a media thread and a UDP port; `MediaServer` is the
/// one the server runs. ICE credentials and fingerprints stay typed (`LocalTransport`,
/// `RemoteTransport`) all the way to the engine.
public protocol MediaPlane: Sendable {
    func localTransport(sessionId: UInt64) -> LocalTransport
    /// `remote` is nil for a subscribe transport, whose peer side comes with its answer.
    func openTransport(participant: ParticipantID, callId: String, role: PeerRole, credentials: ICECredentials,
                       remote: RemoteTransport?)
    func updateRemote(participant: ParticipantID, role: PeerRole, remote: RemoteTransport)
    func setPublishedTracks(participant: ParticipantID, _ tracks: [PublishTrackConfig])
    func setDownTracks(participant: ParticipantID, _ downTracks: [DownTrackConfig])
    func setQuality(participant: ParticipantID, track: TrackID, quality: SimulcastQuality)
    func removeParticipant(_ participant: ParticipantID)
}

extension MediaServer: MediaPlane {}
