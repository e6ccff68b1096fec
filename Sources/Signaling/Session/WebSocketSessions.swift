import ChatAPI
import HummingbirdWebSocket
import Logging
import NIOCore

/// The sessions of `/ws`, one per accepted socket: authenticates it, registers its connection
/// with the hub, reads its frames (`SessionReader`) while a child task writes its queue, and
/// takes the connection out of calls, typing and presence when it ends.
struct WebSocketSessions: Sendable {
    let hub: SignalingHub
    let services: ChatServices
    let options: SignalingOptions
    let logger: Logger
    /// The call frames; nil on a server without media (calls are then refused).
    let calls: CallSignaling?
    let outbox: SignalingOutbox
    let typing: TypingAnnouncer
    let presence: PresenceAnnouncer
    /// Open WebSockets per user, for WS_MAX_PER_USER.
    let userSlots = ConnectionSlots()

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, channel: any Channel, queryToken: String?) async {
        var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
        guard let (caller, authId) = await authenticate(&messages, outbound: outbound, queryToken: queryToken) else { return }
        let user: UserRecord
        do {
            guard let found = try await services.users.find(id: caller.userId) else {
                await outbound.close(code: CloseCode.unauthorized, reason: "unknown user")
                return
            }
            user = found
        } catch {
            await refuseUnavailable(outbound, id: authId, error)
            return
        }
        guard userSlots.take(caller.userId, cap: options.maxConnectionsPerUser) else {
            await outbound.refuseOverCap("WS_MAX_PER_USER", options.maxConnectionsPerUser, id: authId)
            return
        }
        defer { userSlots.give(caller.userId) }
        let (connection, first) = hub.register(userId: caller.userId, loginId: caller.loginId, capacity: options.outboundCapacity) {
            channel.close(promise: nil)
        }
        outbox.send(ServerFrame.make("auth.success", id: authId, SessionFrames.AuthSuccess(user: user.dto(online: true, includeEmail: true, includeStatus: true))),
                    to: connection)
        if first { presence.mayHaveChanged(caller.userId) }

        // A child task drains the queue while this task reads frames. When the client leaves or
        // breaks a rule, the reader ends and closes the queue, which ends the writer; when the
        // queue overflows (a client that stopped reading), the channel is closed, which ends both.
        let reader = SessionReader(sessions: self, caller: caller, connection: connection, outbound: outbound)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                writing: while let batch = await connection.queue.next() {
                    for buffer in batch {
                        do {
                            try await outbound.write(.custom(.init(fin: true, opcode: .text, data: buffer)))
                        } catch {
                            break writing
                        }
                    }
                }
                // A session ended by the server (its login revoked) closes with the code it was given.
                if let code = connection.queue.closeCode { await outbound.close(code: code, reason: "login ended") }
            }
            await reader.run(&messages)
            connection.queue.close()
        }

        await calls?.connectionClosed(connection)
        await typing.connectionClosed(connection)
        if hub.unregister(connection) { presence.mayHaveChanged(caller.userId) }
    }

    /// Verifies `?token=` or the first frame, which must be `auth` within the time limit.
    /// Returns the caller and the `id` of their `auth` frame.
    private func authenticate(_ messages: inout WebSocketInboundMessageStream.AsyncIterator,
                              outbound: WebSocketOutboundWriter, queryToken: String?) async -> (AuthContext, String?)? {
        var token = queryToken
        var requestId: String?
        if token == nil {
            let timeout = options.authTimeout
            let watchdog = Task {
                try await Task.sleep(for: timeout)
                await outbound.close(code: CloseCode.authTimeout, reason: "auth timeout")
            }
            let first = try? await messages.next()
            watchdog.cancel()
            guard case .text(let text)? = first else { return nil }
            guard let frame = try? ClientFrame(parsing: text), case .auth(let presented) = frame.request else {
                await outbound.refuseUnauthorized(id: nil, "The first frame must be auth.")
                return nil
            }
            token = presented
            requestId = frame.id
        }
        do {
            return (try await services.auth.authenticate(bearer: token ?? ""), requestId)
        } catch where StorageFailure.apiError(for: error) != nil {
            await refuseUnavailable(outbound, id: requestId, error)
            return nil
        } catch {
            await outbound.refuseUnauthorized(id: requestId, "Invalid, expired or revoked token.")
            return nil
        }
    }

    /// The database is gone (PostgreSQL down) or failed: the login may well be fine, so the
    /// client is told to come back (`error` `unavailable`, close 1013), not that its token is bad.
    private func refuseUnavailable(_ outbound: WebSocketOutboundWriter, id: String?, _ error: any Error) async {
        logger.warning("websocket refused: database unavailable", metadata: ["error": "\(error)"])
        await outbound.refuse(StorageFailure.apiError(for: error) ?? StorageFailure.databaseUnavailable, id: id,
                              code: CloseCode.tryAgainLater, reason: "try again later")
    }
}
