import Crypto
import Foundation
import ICE
#if canImport(Glibc)
import Glibc
#endif

/// Asks a TURN server for a relay allocation with the credentials Parley would hand out, the
/// way a browser does (RFC 8656 §7.2 and §9.2): an unauthenticated Allocate to learn the realm
/// and nonce, then the same request signed with the long-term key, then a Refresh with
/// lifetime 0 to give the allocation back. A granted allocation proves that coturn is reachable
/// on that URL and shares `TURN_SECRET`; anything else is reported in words.
struct TurnAllocationProbe {
    var url: TurnURL
    var username: String
    var password: String
    var timeout: Duration = .seconds(3)

    enum Outcome: Equatable {
        case granted(relayed: String)
        case failed(String)
    }

    // RFC 8656 §18 and §17: the methods and attributes a probe needs beyond Binding.
    static let allocate = STUNMethod(rawValue: 0x003)
    static let refresh = STUNMethod(rawValue: 0x004)
    static let lifetime: UInt16 = 0x000D
    static let xorRelayedAddress: UInt16 = 0x0016
    static let requestedTransport: UInt16 = 0x0019
    /// REQUESTED-TRANSPORT: protocol 17 (UDP, the only one RFC 8656 relays) and three RFFU bytes.
    static let udpTransport: [UInt8] = [17, 0, 0, 0]

    func run() -> Outcome {
        if url.secure { return .failed("turns: (TLS) is not probed; check it with a browser call") }
        let connection: Connection
        do { connection = try Connection(host: url.host, port: url.port, transport: url.transport, timeout: timeout) } catch {
            return .failed("\(error)")
        }
        defer { connection.close() }
        do {
            let first = try connection.exchange(STUNMessage(
                type: .init(method: Self.allocate, class: .request),
                attributes: [.other(type: Self.requestedTransport, value: Self.udpTransport)]))
            guard case .errorCode(401, _)? = first.attribute(.errorCode),
                  case .realm(let realm)? = first.attribute(.realm), case .nonce(var nonce)? = first.attribute(.nonce) else {
                if first.type.messageClass == .successResponse {
                    return .failed("the server granted an allocation WITHOUT credentials: it is an open relay (set use-auth-secret)")
                }
                return .failed("unexpected answer to an unauthenticated Allocate: \(Self.describe(first))")
            }
            // RFC 8489 §9.2.2: key = MD5(username ":" realm ":" password).
            let key = SymmetricKey(data: Insecure.MD5.hash(data: Data("\(username):\(realm):\(password)".utf8)))
            for attempt in 0..<2 {
                let answer = try connection.exchange(STUNMessage(
                    type: .init(method: Self.allocate, class: .request),
                    attributes: [.other(type: Self.requestedTransport, value: Self.udpTransport),
                                 .username(username), .realm(realm), .nonce(nonce)]), key: key)
                if answer.type.messageClass == .successResponse {
                    let relayed = answer.attributes.lazy.compactMap { attribute -> String? in
                        guard case .other(Self.xorRelayedAddress, let value) = attribute else { return nil }
                        return Self.decodeXORAddress(value, transactionID: answer.transactionID)
                    }.first ?? "?"
                    _ = try? connection.exchange(STUNMessage(
                        type: .init(method: Self.refresh, class: .request),
                        attributes: [.other(type: Self.lifetime, value: [0, 0, 0, 0]),
                                     .username(username), .realm(realm), .nonce(nonce)]), key: key)
                    return .granted(relayed: relayed)
                }
                if attempt == 0, case .errorCode(438, _)? = answer.attribute(.errorCode), case .nonce(let fresh)? = answer.attribute(.nonce) {
                    nonce = fresh  // stale nonce: RFC 8489 §9.2.5 says try once more with the new one
                    continue
                }
                if case .errorCode(401, _)? = answer.attribute(.errorCode) {
                    return .failed("credentials refused (401): TURN_SECRET does not match coturn's static-auth-secret")
                }
                return .failed("allocation refused: \(Self.describe(answer))")
            }
            return .failed("allocation refused twice for a stale nonce")
        } catch {
            return .failed("\(error)")
        }
    }

    static func describe(_ message: STUNMessage) -> String {
        if case .errorCode(let code, let reason)? = message.attribute(.errorCode) { return "error \(code) \(reason)" }
        return "message type 0x\(String(message.type.rawValue, radix: 16))"
    }

    /// XOR-RELAYED-ADDRESS is encoded as XOR-MAPPED-ADDRESS is (RFC 8656 §18.5, RFC 8489 §14.2).
    static func decodeXORAddress(_ value: [UInt8], transactionID: STUNTransactionID) -> String? {
        guard value.count >= 8 else { return nil }
        let port = (UInt16(value[2]) << 8 | UInt16(value[3])) ^ 0x2112
        let mask = [0x21, 0x12, 0xA4, 0x42] + transactionID.bytes
        switch value[1] {
        case 0x01:
            let octets = (0..<4).map { String(value[4 + $0] ^ UInt8(mask[$0])) }
            return octets.joined(separator: ".") + ":\(port)"
        case 0x02 where value.count == 20:
            let bytes = (0..<16).map { value[4 + $0] ^ UInt8(mask[$0]) }
            let groups = stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            return "[" + groups.joined(separator: ":") + "]:\(port)"
        default:
            return nil
        }
    }

    /// One socket to the TURN server: a connected UDP socket (with retransmission, RFC 8489
    /// §6.2.1, shortened) or a TCP stream where messages follow each other, framed by STUN's
    /// own length field (RFC 8489 §6.2.2).
    final class Connection {
        struct Failure: Error, CustomStringConvertible { var description: String }

        let fd: Int32
        let transport: TurnURL.Transport
        let timeout: Duration

        init(host: String, port: UInt16, transport: TurnURL.Transport, timeout: Duration) throws {
            self.transport = transport
            self.timeout = timeout
            var hints = addrinfo()
            hints.ai_family = AF_UNSPEC
            hints.ai_socktype = Int32(transport == .udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue)
            var result: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
                throw Failure(description: "cannot resolve \(host)")
            }
            defer { freeaddrinfo(result) }
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
            let (seconds, attoseconds) = timeout.components
            var tv = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
                let reason = String(cString: strerror(errno))
                Glibc.close(fd)
                throw Failure(description: "cannot connect to \(host):\(port)/\(transport.rawValue): \(reason)")
            }
            self.fd = fd
        }

        func close() { Glibc.close(fd) }

        /// Sends a request and returns the response with its transaction ID.
        func exchange(_ request: STUNMessage, key: SymmetricKey? = nil) throws -> STUNMessage {
            let bytes = try request.serialized(integrityKey: key, fingerprint: true)
            let tries = transport == .udp ? 3 : 1
            for _ in 0..<tries {
                guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
                    throw Failure(description: "send failed: \(String(cString: strerror(errno)))")
                }
                while let answer = try receive() {
                    if answer.transactionID == request.transactionID { return answer }
                }
            }
            throw Failure(description: "no answer within \(timeout) (\(tries) tr\(tries == 1 ? "y" : "ies")): is the port open?")
        }

        /// One message, or nil on timeout (UDP: the caller sends again).
        private func receive() throws -> STUNMessage? {
            if transport == .udp {
                var buffer = [UInt8](repeating: 0, count: 1500)
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard count > 0 else { return nil }
                return try STUNMessage(parsing: Array(buffer[..<count]))
            }
            guard let header = try read(20) else { throw Failure(description: "no answer within \(timeout)") }
            let length = Int(header[2]) << 8 | Int(header[3])
            guard let body = try read(length) else { throw Failure(description: "the answer stopped half way") }
            return try STUNMessage(parsing: header + body)
        }

        private func read(_ count: Int) throws -> [UInt8]? {
            guard count > 0 else { return [] }
            var out = [UInt8](repeating: 0, count: count)
            var filled = 0
            while filled < count {
                let n = out.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + filled, count - filled, 0) }
                if n <= 0 { return nil }
                filled += n
            }
            return out
        }
    }
}
