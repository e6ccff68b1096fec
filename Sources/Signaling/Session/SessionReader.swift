import ChatAPI
import HummingbirdWebSocket
import NIOCore
import SFU

/// Reads one connection's frames and answers them. Every frame is untrusted: anything wrong
/// with it gets an `error` frame carrying its `id` (or the documented close code), and the
/// connection goes on.
struct SessionReader: Sendable {
    let sessions: WebSocketSessions
    let caller: AuthContext
    let connection: Connection
    let outbound: WebSocketOutboundWriter

    func run(_ messages: inout WebSocketInboundMessageStream.AsyncIterator) async {
        var limiter = FrameRateLimiter(rate: sessions.options.framesPerSecond, burst: sessions.options.frameBurst, now: .now)
        // A user out of budget gets `rate_limited` answers and the socket stays open; one that
        // keeps sending regardless is closed with 4429.
        var refusals = FrameRateLimiter(rate: 1, burst: sessions.options.rateLimitedBurst, now: .now)
        while let message = try? await messages.next() {
            guard limiter.allow(now: .now) else {
                await outbound.close(code: CloseCode.rateLimited, reason: "rate limited")
                return
            }
            let text: String
            switch message {
            case .text(let value): text = value
            case .binary(let buffer):
                guard buffer.readableBytes <= sessions.options.maxFrameBytes else {
                    await outbound.close(code: CloseCode.tooLarge, reason: "frame too large")
                    return
                }
                reply(.error(id: nil, .malformed("Frames must be text holding JSON.")))
                continue
            }
            guard text.utf8.count <= sessions.options.maxFrameBytes else {
                await outbound.close(code: CloseCode.tooLarge, reason: "frame too large")
                return
            }
            let frame: ClientFrame
            do {
                frame = try ClientFrame(parsing: text)
            } catch {
                reply(.error(id: error.id, error.error))
                continue
            }
            do {
                try await handle(frame)
            } catch let error as APIError {
                reply(.error(id: frame.id, error))
                if error.code == "rate_limited", !refusals.allow(now: .now) {
                    await outbound.close(code: CloseCode.rateLimited, reason: "rate limited")
                    return
                }
            } catch let error as CallError {
                reply(.error(id: frame.id, error.apiError))
            } catch {
                if let failure = StorageFailure.apiError(for: error) {
                    sessions.logger.warning("database unavailable or full", metadata: ["error": "\(error)"])
                    reply(.error(id: frame.id, failure))
                } else {
                    sessions.logger.error("websocket frame failed", metadata: ["error": "\(String(reflecting: type(of: error)))"])
                    reply(.error(id: frame.id, .internalError))
                }
            }
        }
    }

    private func reply(_ frame: ServerFrame) { sessions.outbox.send(frame, to: connection) }

    private func handle(_ frame: ClientFrame) async throws {
        let services = sessions.services, hub = sessions.hub
        let id = frame.id
        switch frame.request {
        case .auth:
            throw APIError.invalidField("type", "This connection is already authenticated.")
        case .ping:
            reply(.make("pong", id: id, ServerFrame.Empty()))
        case .roomJoin(let conversationId):
            _ = try await services.conversations.requireMember(conversationId, caller)
            let members = try await services.conversations.memberIds(of: conversationId)
            let typing = hub.typingUsers(in: conversationId)
            reply(.make("room.joined", id: id, SessionFrames.RoomJoined(
                conversationId: conversationId,
                online: members.filter { hub.isOnline($0) },
                typing: members.filter { typing.contains($0) && $0 != caller.userId })))
        case .roomLeave(let conversationId):
            _ = try await services.conversations.requireMember(conversationId, caller)
            reply(.make("room.left", id: id, SessionFrames.Conversation(conversationId: conversationId)))
        case .messageSend(let conversationId, let content, let clientMsgId, let attachmentIds):
            let (message, _) = try await services.messages.send(
                conversationId, content: content, clientMsgId: clientMsgId, attachmentIds: attachmentIds, caller)
            reply(.make("message.sent", id: id, ServerFrame.MessagePayload(message: message)))
            await sessions.typing.changed(.init(conversationId: conversationId, userId: caller.userId), started: false, connection: connection)
        case .messageEdit(let conversationId, let messageId, let content):
            let message = try await services.messages.edit(conversationId, messageId: messageId, content: content, caller)
            reply(.make("message.updated", id: id, ServerFrame.MessagePayload(message: message)))
        case .messageDelete(let conversationId, let messageId):
            try await services.messages.delete(conversationId, messageId: messageId, caller)
            reply(.make("message.deleted", id: id, ServerFrame.MessageRef(conversationId: conversationId, messageId: messageId)))
        case .typing(let conversationId, let started):
            _ = try await services.conversations.requireMember(conversationId, caller)
            await sessions.typing.changed(.init(conversationId: conversationId, userId: caller.userId), started: started, connection: connection)
        case .read(let conversationId, let messageId):
            try await services.messages.markRead(conversationId, messageId: messageId, caller)
        case .callJoin(let conversationId):
            try await calls().join(conversationId, id: id, caller: caller, connection: connection)
        case .callPublish(let conversationId, let sdp, let tracks):
            try await calls().publish(conversationId, sdp: sdp, tracks: tracks, id: id, caller: caller, connection: connection)
        case .callSubscribeAnswer(let conversationId, let sdp, let revision):
            try await calls().subscribeAnswer(conversationId, sdp: sdp, revision: revision, caller: caller)
        case .callCandidate(let conversationId, _):
            try await calls().candidate(conversationId, caller: caller)
        case .callMute(let conversationId, let trackId, let muted):
            try await calls().mute(conversationId, trackId: trackId, muted: muted, caller: caller)
        case .callQuality(let conversationId, let trackId, let quality):
            try await calls().quality(conversationId, trackId: trackId, quality: quality, caller: caller)
        case .callLeave(let conversationId):
            try await calls().leave(conversationId, caller: caller)
        case .callDecline(let conversationId):
            try await calls().decline(conversationId, caller: caller)
        }
    }

    private func calls() throws -> CallSignaling {
        guard let calls = sessions.calls else { throw APIError.conflict("calls_unavailable", "This server runs no media; calls are not available.") }
        return calls
    }
}
