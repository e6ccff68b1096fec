import SDP

/// Why a call request was refused. The signaling turns each into an `error` frame with the
/// code docs/protocol.md "Calls" lists for it.
public enum CallError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The caller has not joined this conversation's call (or it has ended).
    case notInCall
    /// The call already has the configured maximum of participants.
    case callFull(limit: Int)
    /// The user is already in as many calls as one user may be in at once (`CALL_MAX_PER_USER`).
    case tooManyCalls(limit: Int)
    /// `trackId` names no track the caller may act on.
    case unknownTrack(String)
    /// A subscribe answer for another revision than the offer awaiting one.
    case staleRevision(expected: Int?, got: Int)
    /// The SDP could not be served.
    case sdp(SDPError)
    /// A `tracks` entry names a mid the offer does not have, or twice.
    case invalidTracks(String)
    /// `call.decline` from someone who is in the call (they leave instead).
    case alreadyInCall

    public var description: String {
        switch self {
        case .notInCall: "You are not in this call; send call.join first."
        case .callFull(let limit): "The call is full (at most \(limit) participants)."
        case .tooManyCalls(let limit):
            "You are already in \(limit) calls, the most one user may be in at once (CALL_MAX_PER_USER); leave one first."
        case .unknownTrack(let id): "No track '\(id.prefix(64))' in this call."
        case .staleRevision(let expected?, let got):
            "This answer is for revision \(got), but the offer awaiting an answer is revision \(expected)."
        case .staleRevision(nil, let got): "No subscribe offer awaits an answer (got revision \(got))."
        case .sdp(let error): error.description
        case .invalidTracks(let reason): reason
        case .alreadyInCall: "You are in this call; send call.leave to leave it."
        }
    }
}
