import ChatAPI
import Foundation
import ObjectStorage

/// Parley's configuration, read from the environment (README.md "Configuration"). Every bad
/// value is reported by name with what would be accepted, before anything starts.
struct Configuration: Sendable {
    var host: String
    var port: Int
    var dataDirectory: String
    var database: DatabaseURL
    var jwtSigningKey: String?
    var rtcUDPPort: Int
    var rtcPublicIP: String?
    var iceTCP: Bool
    var stunURLs: [String]
    var turnURLs: [String]
    var turnSecret: String?
    var turnTTL: Int
    var callMaxParticipants: Int
    /// CALL_MAX_PER_USER: calls one user may be in at once; nil when `off`.
    var callMaxPerUser: Int?
    var callMaxTracks: Int
    /// CALL_RING_TIMEOUT: seconds a DM call rings before it ends unanswered.
    var callRingTimeout: Int
    var webRoot: String?
    var trustedProxies: [String]
    var authRateLimit: RateLimiter.Rule?
    var bcryptCost: UInt8
    var allowedOrigins: [String]
    var logFormat: LogFormat
    var logLevel: String
    // Per-user limits, caps, refresh grace, /metrics access (README "Configuration").
    var chatLimits: ChatLimits
    var wsMaxPerUser: Int?
    var wsMaxPerAddress: Int?
    var metricsToken: String?
    /// REGISTRATION: who may create an account after the first (who becomes the administrator).
    var registration: RegistrationPolicy
    /// PUBLIC_URL: the origin of the links the server hands out (invitations, webhooks).
    var publicURL: String?
    /// STORAGE_URL: where attachment bytes live (`DATA_DIR/files` by default).
    var storage: StorageLocation
    /// S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, required with an s3:// STORAGE_URL.
    var s3Keys: (id: String, secret: String)?

    enum LogFormat: String, Sendable { case logfmt, json }

    struct Error: Swift.Error, CustomStringConvertible, Equatable {
        var variable: String
        var problem: String
        var description: String { "\(variable): \(problem)" }
    }

    init(environment: [String: String]) throws {
        func value(_ name: String) -> String? {
            guard let raw = environment[name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw
        }
        func integer(_ name: String, default fallback: Int, _ range: ClosedRange<Int>) throws -> Int {
            guard let raw = value(name) else { return fallback }
            guard let number = Int(raw), range.contains(number) else {
                throw Error(variable: name, problem: "'\(raw)' must be an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return number
        }
        /// A variable that is present but blank is refused: in an environment file, `NAME=` is
        /// what a value lost on the way (an unset shell variable in a `sed` line) looks like,
        /// and silently falling back to the default here gives calls that connect and carry
        /// no media (the private address announced, TURN without credentials).
        func notBlankIfSet(_ name: String) throws {
            if let raw = environment[name], raw.trimmingCharacters(in: .whitespaces).isEmpty {
                throw Error(variable: name, problem: "is set but empty; give it a value or remove the line")
            }
        }
        func list(_ name: String) -> [String] {
            (value(name) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }

        host = value("HOST") ?? "0.0.0.0"
        port = try integer("PORT", default: 8080, 0...65535)
        dataDirectory = value("DATA_DIR") ?? "./data"
        if let raw = value("DATABASE_URL") {
            do { database = try DatabaseURL(parsing: raw) } catch {
                throw Error(variable: "DATABASE_URL", problem: error.description)
            }
        } else {
            database = .sqlite(path: (dataDirectory as NSString).appendingPathComponent("parley.db"))
        }
        jwtSigningKey = value("JWT_SIGNING_KEY")
        if let key = jwtSigningKey, key.utf8.count < 32 {
            throw Error(variable: "JWT_SIGNING_KEY", problem: "must be at least 32 characters (it is \(key.utf8.count))")
        }
        if jwtSigningKey == nil, database.isPostgres {
            // A key generated into one instance's DATA_DIR would make every other instance refuse its tokens.
            throw Error(variable: "JWT_SIGNING_KEY", problem: "is required with a PostgreSQL DATABASE_URL, so that every instance signs with the same key")
        }
        rtcUDPPort = try integer("RTC_UDP_PORT", default: 7882, 0...65535)
        for name in ["RTC_PUBLIC_IP", "TURN_SECRET", "ICE_TURN_URLS"] { try notBlankIfSet(name) }
        rtcPublicIP = value("RTC_PUBLIC_IP")
        if let ip = rtcPublicIP, !Self.isIPAddress(ip) {
            throw Error(variable: "RTC_PUBLIC_IP", problem: "'\(ip)' is not an IPv4 or IPv6 address")
        }
        switch value("RTC_ICE_TCP")?.lowercased() {
        case nil, "on", "true", "1": iceTCP = true
        case "off", "false", "0": iceTCP = false
        case let other?: throw Error(variable: "RTC_ICE_TCP", problem: "'\(other)' must be on or off")
        }
        stunURLs = list("ICE_STUN_URLS")
        turnURLs = list("ICE_TURN_URLS")
        for url in stunURLs where !url.hasPrefix("stun:") && !url.hasPrefix("stuns:") {
            throw Error(variable: "ICE_STUN_URLS", problem: "'\(url)' must start with stun: or stuns:")
        }
        for url in turnURLs where !url.hasPrefix("turn:") && !url.hasPrefix("turns:") {
            throw Error(variable: "ICE_TURN_URLS", problem: "'\(url)' must start with turn: or turns:")
        }
        turnSecret = value("TURN_SECRET")
        if let secret = turnSecret, secret.contains("CHANGE-ME") || secret.utf8.count < 16 {
            // The example file's placeholder, or a guessable secret: anyone who knows it mints
            // credentials for the relay.
            throw Error(variable: "TURN_SECRET", problem: "must be a random secret of at least 16 characters (openssl rand -hex 32)")
        }
        // call.config hands out TURN credentials made with the secret: one without the other
        // gives clients relay servers they cannot use.
        if !turnURLs.isEmpty, turnSecret == nil {
            throw Error(variable: "TURN_SECRET", problem: "is required with ICE_TURN_URLS (coturn's static-auth-secret)")
        }
        if turnSecret != nil, turnURLs.isEmpty {
            throw Error(variable: "ICE_TURN_URLS", problem: "is required with TURN_SECRET (the turn: URLs to hand out)")
        }
        turnTTL = try integer("TURN_TTL", default: 86400, 60...(30 * 86400))
        callMaxParticipants = try integer("CALL_MAX_PARTICIPANTS", default: 16, 2...1000)
        callMaxPerUser = try value("CALL_MAX_PER_USER")?.lowercased() == "off" ? nil : integer("CALL_MAX_PER_USER", default: 2, 1...100)
        // No "off": every sending section is media-engine state, so the cap stays finite.
        callMaxTracks = try integer("CALL_MAX_TRACKS", default: 4, 1...32)
        callRingTimeout = try integer("CALL_RING_TIMEOUT", default: 45, 1...600)
        webRoot = value("WEB_ROOT")
        trustedProxies = value("TRUSTED_PROXIES").map { _ in list("TRUSTED_PROXIES") } ?? ["127.0.0.1", "::1"]
        for proxy in trustedProxies where !Self.isIPAddress(proxy) {
            throw Error(variable: "TRUSTED_PROXIES", problem: "'\(proxy)' is not an IP address")
        }
        func rate(_ name: String, default fallback: String) throws -> RateLimiter.Rule? {
            do {
                return try RateLimiter.Rule(parsing: value(name) ?? fallback)
            } catch let error as RateLimiter.Rule.ParseError {
                throw Error(variable: name, problem: error.description)
            }
        }
        func cap(_ name: String, default fallback: Int) throws -> Int? {
            if value(name) == "off" { return nil }
            guard let raw = value(name) else { return fallback }
            guard let number = Int(raw), (1...10_000_000).contains(number) else {
                throw Error(variable: name, problem: "'\(raw)' must be a positive integer or off")
            }
            return number
        }
        authRateLimit = try rate("AUTH_RATE_LIMIT", default: "10/30s")
        // Per-user limits, caps, refresh grace and /metrics access, kept together.
        chatLimits = ChatLimits()
        chatLimits.messages = try rate("RATE_MESSAGES", default: "30/10s")
        chatLimits.conversations = try rate("RATE_CONVERSATIONS", default: "30/1m")
        chatLimits.members = try rate("RATE_MEMBERS", default: "60/1m")
        chatLimits.search = try rate("RATE_SEARCH", default: "60/1m")
        chatLimits.groupMaxMembers = try cap("GROUP_MAX_MEMBERS", default: 1000)
        chatLimits.userMaxConversations = try cap("USER_MAX_CONVERSATIONS", default: 10_000)
        chatLimits.refreshReuseGraceSeconds = try integer("REFRESH_REUSE_GRACE", default: 10, 0...300)
        wsMaxPerUser = try cap("WS_MAX_PER_USER", default: 20)
        wsMaxPerAddress = try cap("WS_MAX_PER_ADDRESS", default: 200)
        metricsToken = value("METRICS_TOKEN")
        if let token = metricsToken, token.utf8.count < 16 {
            throw Error(variable: "METRICS_TOKEN", problem: "must be at least 16 characters (it is \(token.utf8.count))")
        }
        let registrationValue = value("REGISTRATION")?.lowercased() ?? "invite"
        guard let policy = RegistrationPolicy(rawValue: registrationValue) else {
            throw Error(variable: "REGISTRATION", problem: "'\(registrationValue)' must be invite, open or closed")
        }
        registration = policy
        publicURL = value("PUBLIC_URL").map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        if let url = publicURL {
            let rest = url.drop(while: { $0 != ":" }).dropFirst(3)
            guard url.hasPrefix("http://") || url.hasPrefix("https://"), !rest.isEmpty, !rest.contains("/"), !rest.contains("?"),
                  !rest.contains("#"), !rest.contains(where: \.isWhitespace)
            else {
                throw Error(variable: "PUBLIC_URL", problem: "'\(url)' must be an origin like https://chat.example.com (no path)")
            }
        }
        // Attachments: where they live, how large, how much per user.
        do {
            storage = try StorageLocation.parse(value("STORAGE_URL"), defaultFolder: Self.absolute(
                (dataDirectory as NSString).appendingPathComponent("files")))
        } catch let error as StorageLocation.ParseError {
            throw Error(variable: "STORAGE_URL", problem: error.problem)
        }
        switch (storage, value("S3_ACCESS_KEY_ID"), value("S3_SECRET_ACCESS_KEY")) {
        case (.s3, let id?, let secret?):
            // The example file's placeholders would only fail later, at the first upload.
            for (name, key) in [("S3_ACCESS_KEY_ID", id), ("S3_SECRET_ACCESS_KEY", secret)] where key.contains("CHANGE-ME") {
                throw Error(variable: name, problem: "is the example file's placeholder; set the bucket's key")
            }
            s3Keys = (id, secret)
        case (.s3, nil, _): throw Error(variable: "S3_ACCESS_KEY_ID", problem: "is required with an s3:// STORAGE_URL")
        case (.s3, _, nil): throw Error(variable: "S3_SECRET_ACCESS_KEY", problem: "is required with an s3:// STORAGE_URL")
        case (.folder, _, _): s3Keys = nil
        }
        func bytes(_ name: String, default fallback: Int64, allowOff: Bool) throws -> Int64? {
            guard let raw = value(name) else { return fallback }
            if allowOff, raw.lowercased() == "off" { return nil }
            guard let number = Int64(raw), number >= 1 else {
                throw Error(variable: name, problem: "'\(raw)' must be a number of bytes\(allowOff ? " or off" : "")")
            }
            return number
        }
        chatLimits.attachmentMaxBytes = try bytes("ATTACHMENT_MAX_BYTES", default: chatLimits.attachmentMaxBytes, allowOff: false)!
        chatLimits.attachmentQuotaBytes = try bytes(
            "ATTACHMENT_QUOTA_BYTES", default: chatLimits.attachmentQuotaBytes ?? 0, allowOff: true)
        chatLimits.attachmentMaxPending = try cap("ATTACHMENT_MAX_PENDING", default: chatLimits.attachmentMaxPending ?? 100)
        chatLimits.uploads = try rate("RATE_UPLOADS", default: "60/1m")
        bcryptCost = UInt8(try integer("BCRYPT_COST", default: 12, 4...31))
        allowedOrigins = list("ALLOWED_ORIGINS")
        for origin in allowedOrigins where !(origin.hasPrefix("http://") || origin.hasPrefix("https://")) {
            throw Error(variable: "ALLOWED_ORIGINS", problem: "'\(origin)' must be an origin like https://chat.example.com")
        }
        guard let format = LogFormat(rawValue: value("LOG_FORMAT") ?? "logfmt") else {
            throw Error(variable: "LOG_FORMAT", problem: "must be logfmt or json")
        }
        logFormat = format
        logLevel = value("LOG_LEVEL") ?? "info"
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(logLevel) else {
            throw Error(variable: "LOG_LEVEL", problem: "'\(logLevel)' must be trace, debug, info, notice, warning, error or critical")
        }
    }

    /// The attachment storage `STORAGE_URL` names; `jwtKey` signs a folder's upload URLs.
    func makeStorage(jwtKey: String) throws -> any AttachmentStorage {
        switch storage {
        case .folder(let path):
            do {
                return try LocalFolderStorage(folder: path, secret: jwtKey)
            } catch {
                throw Error(variable: "STORAGE_URL", problem: "cannot create the folder \(path)")
            }
        case .s3(let bucket):
            guard let keys = s3Keys else { throw Error(variable: "S3_ACCESS_KEY_ID", problem: "is required with an s3:// STORAGE_URL") }
            return S3Storage(bucket: bucket, accessKeyId: keys.id, secretAccessKey: keys.secret)
        }
    }

    /// Where attachments are, for the log (never the keys).
    var storageDescription: String {
        switch storage {
        case .folder(let path): path
        case .s3(let bucket): "s3 bucket \(bucket.bucket) at \(bucket.endpoint)"
        }
    }

    /// A folder as an absolute path, so a relative DATA_DIR names the same place whatever the
    /// working directory later.
    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
    }

    static func isIPAddress(_ text: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    /// The JWT key: configured, or generated once into DATA_DIR and reused after restarts.
    func resolvedJWTKey() throws -> String {
        if let jwtSigningKey { return jwtSigningKey }
        let path = (dataDirectory as NSString).appendingPathComponent("jwt.key")
        if let existing = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
           existing.utf8.count >= 32 {
            return existing
        }
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        var generator = SystemRandomNumberGenerator()
        let key = (0..<48).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        guard FileManager.default.createFile(atPath: path, contents: Data(key.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw Error(variable: "DATA_DIR", problem: "cannot write \(path)")
        }
        return key
    }
}
