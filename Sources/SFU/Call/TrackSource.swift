/// What a published track carries (docs/protocol.md: a track's `source`). A client names it per
/// transceiver in `call.publish`; unnamed audio is the microphone and unnamed video the camera.
public enum TrackSource: String, Sendable, Codable, CaseIterable {
    case microphone, camera, screen
}
