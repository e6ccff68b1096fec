import ChatAPI
import Foundation

/// A frame from a client, parsed and checked (docs/protocol.md "WebSocket /ws", client frames).
/// Every client frame is untrusted: parsing never throws anything but a `FrameError`, which
/// the session answers with an `error` frame carrying the request's `id`.
public struct ClientFrame: Sendable, Equatable {
    public var id: String?
    public var request: Request

    public enum Request: Sendable, Equatable {
        case auth(token: String)
        case ping
        case roomJoin(conversationId: String)
        case roomLeave(conversationId: String)
        case messageSend(conversationId: String, content: String, clientMsgId: String?, attachmentIds: [String] = [])
        case messageEdit(conversationId: String, messageId: String, content: String)
        case messageDelete(conversationId: String, messageId: String)
        case typing(conversationId: String, started: Bool)
        case read(conversationId: String, messageId: String)
        case callJoin(conversationId: String)
        case callPublish(conversationId: String, sdp: String, tracks: [PublishedSource])
        case callSubscribeAnswer(conversationId: String, sdp: String, revision: Int)
        case callCandidate(conversationId: String, pc: String)
        case callMute(conversationId: String, trackId: String, muted: Bool)
        case callQuality(conversationId: String, trackId: String, quality: String)
        case callLeave(conversationId: String)
        case callDecline(conversationId: String)
    }

    /// An entry of `call.publish`'s `tracks`: the source of one sending transceiver.
    public struct PublishedSource: Decodable, Sendable, Equatable {
        public var mid: String
        public var source: String

        public init(mid: String, source: String) {
            self.mid = mid
            self.source = source
        }
    }

    public struct FrameError: Error, Sendable, Equatable {
        public var id: String?
        public var error: APIError
    }

    struct Envelope: Decodable { var type: String; var id: String? }
    struct Payload<T: Decodable>: Decodable { var data: T }
    struct ConversationData: Decodable { var conversationId: String }
    struct SendData: Decodable {
        var conversationId: String
        var content: String
        var clientMsgId: String?
        var attachmentIds: [String]?
    }
    struct EditData: Decodable { var conversationId: String; var messageId: String; var content: String }
    struct MessageRef: Decodable { var conversationId: String; var messageId: String }
    struct AuthData: Decodable { var token: String }
    struct PublishData: Decodable { var conversationId: String; var sdp: String; var tracks: [PublishedSource]? }
    struct AnswerData: Decodable { var conversationId: String; var sdp: String; var revision: Int }
    struct CandidateData: Decodable { var conversationId: String; var pc: String }
    struct MuteData: Decodable { var conversationId: String; var trackId: String; var muted: Bool }
    struct QualityData: Decodable { var conversationId: String; var trackId: String; var quality: String }

    public init(parsing text: String) throws(FrameError) {
        let data = Data(text.utf8)
        let envelope: Envelope
        do {
            envelope = try JSONCoding.decoder().decode(Envelope.self, from: data)
        } catch let error as DecodingError {
            throw FrameError(id: nil, error: JSONBody.fieldError(error))
        } catch {
            throw FrameError(id: nil, error: .malformed("The frame is not a JSON object."))
        }
        id = envelope.id
        func payload<T: Decodable>(_ type: T.Type) throws(FrameError) -> T {
            do {
                return try JSONCoding.decoder().decode(Payload<T>.self, from: data).data
            } catch let error as DecodingError {
                var apiError = JSONBody.fieldError(error)
                if apiError.code == "malformed" { apiError = .invalidField("data", "data must be an object.") }
                // Fields are named as inside `data`, the way REST names body fields.
                if let field = apiError.field, field.hasPrefix("data.") {
                    apiError = .invalidField(String(field.dropFirst(5)), apiError.message.replacingOccurrences(of: field, with: String(field.dropFirst(5))))
                }
                throw FrameError(id: envelope.id, error: apiError)
            } catch {
                throw FrameError(id: envelope.id, error: .malformed())
            }
        }
        switch envelope.type {
        case "auth": request = .auth(token: try payload(AuthData.self).token)
        case "ping": request = .ping
        case "room.join": request = .roomJoin(conversationId: try payload(ConversationData.self).conversationId)
        case "room.leave": request = .roomLeave(conversationId: try payload(ConversationData.self).conversationId)
        case "message.send":
            let body = try payload(SendData.self)
            request = .messageSend(conversationId: body.conversationId, content: body.content, clientMsgId: body.clientMsgId,
                                   attachmentIds: body.attachmentIds ?? [])
        case "message.edit":
            let body = try payload(EditData.self)
            request = .messageEdit(conversationId: body.conversationId, messageId: body.messageId, content: body.content)
        case "message.delete":
            let body = try payload(MessageRef.self)
            request = .messageDelete(conversationId: body.conversationId, messageId: body.messageId)
        case "typing.start", "typing.stop":
            request = .typing(conversationId: try payload(ConversationData.self).conversationId, started: envelope.type == "typing.start")
        case "read":
            let body = try payload(MessageRef.self)
            request = .read(conversationId: body.conversationId, messageId: body.messageId)
        case "call.join": request = .callJoin(conversationId: try payload(ConversationData.self).conversationId)
        case "call.leave": request = .callLeave(conversationId: try payload(ConversationData.self).conversationId)
        case "call.decline": request = .callDecline(conversationId: try payload(ConversationData.self).conversationId)
        case "call.publish":
            let body = try payload(PublishData.self)
            request = .callPublish(conversationId: body.conversationId, sdp: body.sdp, tracks: body.tracks ?? [])
        case "call.subscribe.answer":
            let body = try payload(AnswerData.self)
            request = .callSubscribeAnswer(conversationId: body.conversationId, sdp: body.sdp, revision: body.revision)
        case "call.candidate":
            let body = try payload(CandidateData.self)
            guard body.pc == "publish" || body.pc == "subscribe" else {
                throw FrameError(id: envelope.id, error: .invalidField("pc", "pc must be publish or subscribe."))
            }
            request = .callCandidate(conversationId: body.conversationId, pc: body.pc)
        case "call.mute":
            let body = try payload(MuteData.self)
            request = .callMute(conversationId: body.conversationId, trackId: body.trackId, muted: body.muted)
        case "call.quality":
            let body = try payload(QualityData.self)
            request = .callQuality(conversationId: body.conversationId, trackId: body.trackId, quality: body.quality)
        default:
            throw FrameError(id: envelope.id, error: .invalidField("type", "Unknown frame type '\(envelope.type.prefix(64))'."))
        }
    }
}
