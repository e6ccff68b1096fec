import ChatAPI
import SFU

/// What `call.config` hands out as `iceServers` (docs/protocol.md "Calls"): the STUN URLs as
/// they are, and the TURN URLs with ephemeral coturn credentials made for the joining user when
/// a TURN secret is configured (`TurnCredentials`).
public struct ICEServerConfiguration: Sendable {
    public var stunURLs: [String]
    public var turnURLs: [String]
    public var turnSecret: String?
    public var turnTTL: Int

    public init(stunURLs: [String] = [], turnURLs: [String] = [], turnSecret: String? = nil, turnTTL: Int = 86400) {
        self.stunURLs = stunURLs
        self.turnURLs = turnURLs
        self.turnSecret = turnSecret
        self.turnTTL = turnTTL
    }

    public struct Server: Codable, Sendable, Equatable {
        public var urls: [String]
        public var username: String?
        public var credential: String?

        public init(urls: [String], username: String? = nil, credential: String? = nil) {
            self.urls = urls
            self.username = username
            self.credential = credential
        }
    }

    /// - Parameter now: seconds since 1970.
    public func servers(for userId: String, now: Int) -> [Server] {
        var servers: [Server] = []
        if !stunURLs.isEmpty { servers.append(Server(urls: stunURLs)) }
        if !turnURLs.isEmpty {
            if let turnSecret {
                let credentials = TurnCredentials(secret: turnSecret, userId: userId, now: now, ttl: turnTTL)
                servers.append(Server(urls: turnURLs, username: credentials.username, credential: credentials.credential))
            } else {
                servers.append(Server(urls: turnURLs))
            }
        }
        return servers
    }
}
