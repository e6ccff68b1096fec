import ChatAPI
import Foundation

/// A frame from a client, parsed and checked (PROTOCOL.md "WebSocket /ws", client to server).
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
        case messageSend(conversationId: String, content: String, clientMsgId: String?)
        case messageEdit(conversationId: String, messageId: String, content: String)
        case messageDelete(conversationId: String, messageId: String)
        case typing(conversationId: String, started: Bool)
        case read(conversationId: String, messageId: String)
    }

    public struct FrameError: Error, Sendable, Equatable {
        public var id: String?
        public var error: APIError
    }

    struct Envelope: Decodable { var type: String; var id: String? }
    struct Payload<T: Decodable>: Decodable { var data: T }
    struct ConversationData: Decodable { var conversationId: String }
    struct SendData: Decodable { var conversationId: String; var content: String; var clientMsgId: String? }
    struct EditData: Decodable { var conversationId: String; var messageId: String; var content: String }
    struct MessageRef: Decodable { var conversationId: String; var messageId: String }
    struct AuthData: Decodable { var token: String }

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
            request = .messageSend(conversationId: body.conversationId, content: body.content, clientMsgId: body.clientMsgId)
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
        default:
            throw FrameError(id: envelope.id, error: .invalidField("type", "Unknown frame type '\(envelope.type.prefix(64))'."))
        }
    }
}
