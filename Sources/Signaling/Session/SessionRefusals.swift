import ChatAPI
import HummingbirdWebSocket

/// How a socket is turned away: an `error` frame saying why, then one of Parley's close codes.
/// Refusals come after the handshake, since the upgrade layer can only decline with a bare 400,
/// which a browser shows page scripts no more than any status, while it does show the close code.
extension WebSocketOutboundWriter {
    /// Closes with `code` (`CloseCode`); a socket already gone is no error.
    func close(code: UInt16, reason: String) async {
        try? await close(.unknown(code), reason: reason)
    }

    func refuse(_ error: APIError, id: String?, code: UInt16, reason: String) async {
        try? await write(.text(ServerFrame.error(id: id, error).text))
        await close(code: code, reason: reason)
    }

    /// A connection past a cap: `error` `limit_reached` naming the setting, then close 4409.
    func refuseOverCap(_ setting: String, _ cap: Int?, id: String? = nil) async {
        await refuse(.limitReached(setting, "At most \(cap ?? 0) WebSockets may be open at once"), id: id,
                     code: CloseCode.limitReached, reason: "limit reached")
    }

    func refuseUnauthorized(id: String?, _ message: String) async {
        await refuse(.unauthorized(message), id: id, code: CloseCode.unauthorized, reason: "unauthorized")
    }
}
