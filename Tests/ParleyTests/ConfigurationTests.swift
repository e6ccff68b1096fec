import ChatAPI
import Testing
@testable import parley

@Suite("Configuration from the environment")
struct ConfigurationTests {
    @Test("defaults match PROTOCOL.md")
    func defaults() throws {
        let configuration = try Configuration(environment: [:])
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.port == 8080)
        #expect(configuration.database == .sqlite(path: "./data/parley.db"))
        #expect(configuration.rtcUDPPort == 7882)
        #expect(configuration.turnTTL == 86400)
        #expect(configuration.trustedProxies == ["127.0.0.1", "::1"])
        #expect(configuration.authRateLimit == .init(limit: 10, windowMilliseconds: 30_000))
        #expect(configuration.bcryptCost == 12)
        #expect(configuration.callMaxTracks == 4)
    }

    @Test("values are read and lists split")
    func values() throws {
        let configuration = try Configuration(environment: [
            "PORT": "9000", "DATABASE_URL": "postgres://u:p@db.example.com:5432/parley",
            "JWT_SIGNING_KEY": String(repeating: "k", count: 32),
            "ICE_STUN_URLS": "stun:a.example.com:3478, stun:b.example.com", "AUTH_RATE_LIMIT": "off",
            "ALLOWED_ORIGINS": "https://chat.example.com", "RTC_PUBLIC_IP": "2001:db8::1", "CALL_MAX_TRACKS": "8",
        ])
        #expect(configuration.callMaxTracks == 8)
        #expect(configuration.port == 9000)
        #expect(configuration.database.isPostgres)
        #expect(configuration.stunURLs == ["stun:a.example.com:3478", "stun:b.example.com"])
        #expect(configuration.authRateLimit == nil)
        #expect(configuration.allowedOrigins == ["https://chat.example.com"])
    }

    @Test("PostgreSQL deployments must share a JWT key")
    func postgresNeedsKey() {
        #expect {
            _ = try Configuration(environment: ["DATABASE_URL": "postgres://u:p@db.example.com/parley"])
        } throws: { error in
            (error as? Configuration.Error)?.variable == "JWT_SIGNING_KEY"
        }
    }

    @Test("bad values are refused, naming the variable", arguments: [
        ("JWT_SIGNING_KEY", "too-short"),
        ("DATABASE_URL", "mysql://u@h/db"),
        ("DATABASE_URL", "postgres://"),
        ("DATABASE_URL", "postgres://user@host"),
        ("DATABASE_URL", "::::"),
        ("PORT", "eighty"),
        ("PORT", "70000"),
        ("RTC_UDP_PORT", "-1"),
        ("RTC_PUBLIC_IP", "my.host"),
        ("ICE_STUN_URLS", "http://x"),
        ("ICE_TURN_URLS", "stun:x"),
        ("TURN_TTL", "5"),
        ("AUTH_RATE_LIMIT", "ten per minute"),
        ("BCRYPT_COST", "99"),
        ("TRUSTED_PROXIES", "caddy"),
        ("ALLOWED_ORIGINS", "chat.example.com"),
        ("LOG_FORMAT", "xml"),
        ("CALL_MAX_TRACKS", "0"),
        ("CALL_MAX_TRACKS", "off"),
        ("CALL_MAX_TRACKS", "33"),
    ])
    func refused(_ variable: String, _ value: String) {
        #expect {
            _ = try Configuration(environment: [variable: value])
        } throws: { error in
            (error as? Configuration.Error)?.variable == variable
        }
    }

    @Test("a generated JWT key is kept in DATA_DIR and reused")
    func generatedKey() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-cfg-\(UUID().uuidString)").path
        let configuration = try Configuration(environment: ["DATA_DIR": directory])
        let first = try configuration.resolvedJWTKey()
        #expect(first.utf8.count >= 32)
        #expect(try configuration.resolvedJWTKey() == first)
        let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/jwt.key")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }
}

import Foundation
