/// A `turn:` or `turns:` URL as handed out in `call.config` (RFC 7065 §3.1):
/// `turn:host[:port][?transport=udp|tcp]`, host an IPv6 literal in brackets or a name.
struct TurnURL: Equatable, CustomStringConvertible {
    enum Transport: String { case udp, tcp }

    var secure: Bool
    var host: String
    var port: UInt16
    var transport: Transport
    var description: String

    init?(_ text: String) {
        description = text
        let rest: Substring
        if text.hasPrefix("turns:") { secure = true; rest = text.dropFirst(6) }
        else if text.hasPrefix("turn:") { secure = false; rest = text.dropFirst(5) }
        else { return nil }
        let parts = rest.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var hostPort = parts[0]
        // RFC 7065: udp by default for turn:, tcp for turns: (TLS runs over TCP).
        transport = secure ? .tcp : .udp
        if parts.count == 2 {
            guard parts[1].hasPrefix("transport="), let t = Transport(rawValue: String(parts[1].dropFirst(10)).lowercased()) else {
                return nil
            }
            transport = t
        }
        var portText: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { return nil }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
        } else {
            if let colon = hostPort.lastIndex(of: ":") {
                portText = hostPort[hostPort.index(after: colon)...]
                hostPort = hostPort[..<colon]
            }
            host = String(hostPort)
        }
        guard !host.isEmpty else { return nil }
        if let portText {
            guard let port = UInt16(portText), port > 0 else { return nil }
            self.port = port
        } else {
            port = secure ? 5349 : 3478
        }
    }
}
