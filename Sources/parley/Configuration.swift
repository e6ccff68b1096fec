import ChatAPI
import Foundation

/// Parley's configuration, read from the environment (PROTOCOL.md "Configuration"). Every bad
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
    var callMaxTracks: Int
    var webRoot: String?
    var trustedProxies: [String]
    var authRateLimit: RateLimiter.Rule?
    var bcryptCost: UInt8
    var allowedOrigins: [String]
    var logFormat: LogFormat
    var logLevel: String

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
        turnTTL = try integer("TURN_TTL", default: 86400, 60...(30 * 86400))
        callMaxParticipants = try integer("CALL_MAX_PARTICIPANTS", default: 16, 2...1000)
        // No "off": every sending section is media-engine state, so the cap stays finite.
        callMaxTracks = try integer("CALL_MAX_TRACKS", default: 4, 1...32)
        webRoot = value("WEB_ROOT")
        trustedProxies = value("TRUSTED_PROXIES").map { _ in list("TRUSTED_PROXIES") } ?? ["127.0.0.1", "::1"]
        for proxy in trustedProxies where !Self.isIPAddress(proxy) {
            throw Error(variable: "TRUSTED_PROXIES", problem: "'\(proxy)' is not an IP address")
        }
        do {
            authRateLimit = try RateLimiter.Rule(parsing: value("AUTH_RATE_LIMIT") ?? "10/30s")
        } catch let error as RateLimiter.Rule.ParseError {
            throw Error(variable: "AUTH_RATE_LIMIT", problem: error.description)
        }
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
