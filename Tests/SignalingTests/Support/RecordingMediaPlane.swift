import DTLS
import ICE
import SDP
import SFU
import Synchronization
@testable import Signaling

/// A media plane that records what the call signaling asks of it, with a fixed certificate
/// fingerprint and fresh ICE credentials for each local transport, as the real one has.
final class RecordingMediaPlane: MediaPlane {
    enum Request: Equatable {
        case open(ParticipantID, PeerRole, credentials: ICECredentials, remote: RemoteTransport?)
        case updateRemote(ParticipantID, PeerRole, RemoteTransport)
        case publishedTracks(ParticipantID, count: Int)
        case downTracks(ParticipantID, count: Int)
        case quality(ParticipantID, SimulcastQuality)
        case remove(ParticipantID)
    }

    static let fingerprint = DTLSFingerprint(algorithm: .sha256, digest: Array(repeating: 0x5A, count: 32))
    private let requests = Mutex<[Request]>([])

    /// What was asked since the last call, in order; it is forgotten.
    func take() -> [Request] {
        requests.withLock { requests in
            defer { requests.removeAll() }
            return requests
        }
    }

    func localTransport(sessionId: UInt64) -> LocalTransport {
        LocalTransport(credentials: .random(), fingerprint: Self.fingerprint,
                       candidates: ["a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host"], address: "127.0.0.1",
                       sessionId: sessionId)
    }

    func openTransport(participant: ParticipantID, callId: String, role: PeerRole, credentials: ICECredentials,
                       remote: RemoteTransport?) {
        record(.open(participant, role, credentials: credentials, remote: remote))
    }

    func updateRemote(participant: ParticipantID, role: PeerRole, remote: RemoteTransport) {
        record(.updateRemote(participant, role, remote))
    }

    func setPublishedTracks(participant: ParticipantID, _ tracks: [PublishTrackConfig]) {
        record(.publishedTracks(participant, count: tracks.count))
    }

    func setDownTracks(participant: ParticipantID, _ downTracks: [DownTrackConfig]) {
        record(.downTracks(participant, count: downTracks.count))
    }

    func setQuality(participant: ParticipantID, track: TrackID, quality: SimulcastQuality) {
        record(.quality(participant, quality))
    }

    func removeParticipant(_ participant: ParticipantID) { record(.remove(participant)) }

    private func record(_ request: Request) { requests.withLock { $0.append(request) } }
}
