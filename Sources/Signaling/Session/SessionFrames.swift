import ChatAPI

/// The payloads of the session frames Parley sends (docs/protocol.md "WebSocket `/ws`").
enum SessionFrames {
    struct AuthSuccess: Encodable { var user: UserDTO }
    struct Conversation: Encodable { var conversationId: String }
    struct RoomJoined: Encodable { var conversationId: String; var online: [String]; var typing: [String] }
}
