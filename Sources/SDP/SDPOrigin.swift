/// The `o=` line (RFC 8866 §5.2): `<username> <sess-id> <sess-version> <nettype> <addrtype> <address>`.
/// JSEP (RFC 8829 §5.2.1) writes `-` as username, a random 62-bit session id and a version that
/// grows with every new description of the same session.
public struct SDPOrigin: Sendable, Equatable {
    public var username: String
    /// Kept as text: RFC 8866 allows any number of digits, browsers write up to 20.
    public var sessionId: String
    public var sessionVersion: String
    public var netType: String
    public var addressType: String
    public var address: String

    public init(
        username: String = "-", sessionId: String, sessionVersion: String, netType: String = "IN",
        addressType: String = "IP4", address: String = "127.0.0.1"
    ) {
        self.username = username
        self.sessionId = sessionId
        self.sessionVersion = sessionVersion
        self.netType = netType
        self.addressType = addressType
        self.address = address
    }

    public init(parsing value: Substring, lineNumber: Int) throws(SDPError) {
        let parts = value.split(separator: " ", omittingEmptySubsequences: true)
        func isNumber(_ s: Substring) -> Bool { !s.isEmpty && s.count <= 32 && s.allSatisfy { $0.isASCII && $0.isNumber } }
        guard parts.count == 6, isNumber(parts[1]), isNumber(parts[2]) else {
            throw .malformedLine(
                line: lineNumber, text: "o=" + value.prefix(80),
                reason: "needs <username> <numeric sess-id> <numeric sess-version> <nettype> <addrtype> <address>")
        }
        self.init(
            username: String(parts[0]), sessionId: String(parts[1]), sessionVersion: String(parts[2]),
            netType: String(parts[3]), addressType: String(parts[4]), address: String(parts[5]))
    }

    public var line: String { "o=\(username) \(sessionId) \(sessionVersion) \(netType) \(addressType) \(address)" }
}
