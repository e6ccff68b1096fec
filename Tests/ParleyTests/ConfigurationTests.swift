import ChatAPI
import Testing
@testable import parley
import ObjectStorage

@Suite("Configuration from the environment")
struct ConfigurationTests {
    @Test("defaults match the README's Configuration table")
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
        #expect(configuration.chatLimits.messages == .init(limit: 30, windowMilliseconds: 10_000))
        #expect(configuration.chatLimits.conversations == .init(limit: 30, windowMilliseconds: 60_000))
        #expect(configuration.chatLimits.members == .init(limit: 60, windowMilliseconds: 60_000))
        #expect(configuration.chatLimits.search == .init(limit: 60, windowMilliseconds: 60_000))
        #expect(configuration.chatLimits.groupMaxMembers == 1000)
        #expect(configuration.chatLimits.userMaxConversations == 10_000)
        #expect(configuration.chatLimits.refreshReuseGraceSeconds == 10)
        #expect(configuration.wsMaxPerUser == 20)
        #expect(configuration.wsMaxPerAddress == 200)
        #expect(configuration.metricsToken == nil)
        #expect(configuration.registration == .invite)
        #expect(configuration.publicURL == nil)
    }

    @Test("REGISTRATION takes invite, open or closed in any letter case; PUBLIC_URL an origin, its trailing slash dropped")
    func registrationAndPublicURL() throws {
        for (value, policy) in [("open", RegistrationPolicy.open), ("Closed", .closed), ("INVITE", .invite)] {
            #expect(try Configuration(environment: ["REGISTRATION": value]).registration == policy)
        }
        #expect(try Configuration(environment: ["PUBLIC_URL": "https://chat.example.com/"]).publicURL == "https://chat.example.com")
        #expect(try Configuration(environment: ["PUBLIC_URL": "http://10.0.0.5:8080"]).publicURL == "http://10.0.0.5:8080")
    }

    @Test("every limit and cap can be raised or set to off")
    func limits() throws {
        let configuration = try Configuration(environment: [
            "RATE_MESSAGES": "off", "RATE_CONVERSATIONS": "100/1m", "RATE_MEMBERS": "off", "RATE_SEARCH": "5/10s",
            "GROUP_MAX_MEMBERS": "5000", "USER_MAX_CONVERSATIONS": "off", "WS_MAX_PER_USER": "off", "WS_MAX_PER_ADDRESS": "1000",
            "REFRESH_REUSE_GRACE": "0", "METRICS_TOKEN": "0123456789abcdef",
        ])
        #expect(configuration.chatLimits.messages == nil)
        #expect(configuration.chatLimits.conversations == .init(limit: 100, windowMilliseconds: 60_000))
        #expect(configuration.chatLimits.members == nil)
        #expect(configuration.chatLimits.search == .init(limit: 5, windowMilliseconds: 10_000))
        #expect(configuration.chatLimits.groupMaxMembers == 5000)
        #expect(configuration.chatLimits.userMaxConversations == nil)
        #expect(configuration.chatLimits.refreshReuseGraceSeconds == 0)
        #expect(configuration.wsMaxPerUser == nil)
        #expect(configuration.wsMaxPerAddress == 1000)
        #expect(configuration.metricsToken == "0123456789abcdef")
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
        ("RATE_MESSAGES", "fast"),
        ("RATE_SEARCH", "0/1m"),
        ("GROUP_MAX_MEMBERS", "0"),
        ("USER_MAX_CONVERSATIONS", "many"),
        ("WS_MAX_PER_USER", "-3"),
        ("WS_MAX_PER_ADDRESS", "none"),
        ("REFRESH_REUSE_GRACE", "3600"),
        ("METRICS_TOKEN", "short"),
        ("CALL_MAX_TRACKS", "0"),
        ("CALL_MAX_TRACKS", "off"),
        ("CALL_MAX_TRACKS", "33"),
        ("REGISTRATION", "sometimes"),
        ("REGISTRATION", "invite-only"),
        ("PUBLIC_URL", "chat.example.com"),
        ("PUBLIC_URL", "https://chat.example.com/parley"),
        ("PUBLIC_URL", "https://"),
        ("PUBLIC_URL", "https://chat.example.com/#x"),
    ])
    func refused(_ variable: String, _ value: String) {
        #expect {
            _ = try Configuration(environment: [variable: value])
        } throws: { error in
            (error as? Configuration.Error)?.variable == variable
        }
    }

    @Test("a blank address, TURN secret or TURN URL list stops the start instead of meaning the default",
          arguments: ["RTC_PUBLIC_IP", "TURN_SECRET", "ICE_TURN_URLS"], ["", "  "])
    func blankIsRefused(_ variable: String, _ blank: String) {
        // What `sed s/CHANGE-ME/$PUBLIC_IP/` writes after the shell variable was lost.
        var environment = ["TURN_SECRET": "turn-secret-0123456789abcdef", "ICE_TURN_URLS": "turn:turn.example.com:3478"]
        environment[variable] = blank
        #expect {
            _ = try Configuration(environment: environment)
        } throws: { error in
            let error = error as? Configuration.Error
            return error?.variable == variable && error?.problem.contains("set but empty") == true
        }
    }

    @Test("TURN URLs and the TURN secret come together")
    func turnNeedsBoth() throws {
        #expect { _ = try Configuration(environment: ["ICE_TURN_URLS": "turn:t.example.com:3478"]) } throws: {
            ($0 as? Configuration.Error)?.variable == "TURN_SECRET"
        }
        #expect { _ = try Configuration(environment: ["TURN_SECRET": "turn-secret-0123456789abcdef"]) } throws: {
            ($0 as? Configuration.Error)?.variable == "ICE_TURN_URLS"
        }
        let both = try Configuration(environment: ["TURN_SECRET": "turn-secret-0123456789abcdef", "ICE_TURN_URLS": "turn:t.example.com:3478"])
        for weak in ["CHANGE-ME", "short-secret"] {
            #expect { _ = try Configuration(environment: ["TURN_SECRET": weak, "ICE_TURN_URLS": "turn:t.example.com:3478"]) } throws: {
                ($0 as? Configuration.Error)?.variable == "TURN_SECRET"
            }
        }
        #expect(both.turnSecret == "turn-secret-0123456789abcdef" && both.turnURLs == ["turn:t.example.com:3478"])
        let neither = try Configuration(environment: ["RTC_PUBLIC_IP": "203.0.113.7"])
        #expect(neither.turnSecret == nil && neither.turnURLs.isEmpty && neither.rtcPublicIP == "203.0.113.7")
    }

    @Test("attachments: a folder under DATA_DIR by default, an S3 bucket with both keys, and the limits")
    func attachmentStorage() throws {
        let plain = try Configuration(environment: ["DATA_DIR": "/srv/parley"])
        #expect(plain.storage == .folder(path: "/srv/parley/files"))
        #expect(plain.chatLimits.attachmentMaxBytes == 25 * 1024 * 1024 && plain.chatLimits.attachmentQuotaBytes == 2 << 30)
        let relative = try Configuration(environment: ["DATA_DIR": "data"])
        guard case .folder(let path) = relative.storage else { Issue.record("not a folder"); return }
        #expect(path.hasPrefix("/") && path.hasSuffix("/data/files"), "absolute, whatever the working directory later")
        let s3URL = "s3://parley-files?endpoint=https://s3.eu-west-1.amazonaws.com&region=eu-west-1"
        let s3 = try Configuration(environment: ["STORAGE_URL": s3URL, "S3_ACCESS_KEY_ID": "AKID", "S3_SECRET_ACCESS_KEY": "secret"])
        #expect(s3.storage == .s3(.init(bucket: "parley-files", endpoint: "https://s3.eu-west-1.amazonaws.com", region: "eu-west-1")))
        #expect(!s3.storageDescription.contains("secret") && !s3.storageDescription.contains("AKID"))
        let refused: [([String: String], String)] = [
            (["STORAGE_URL": s3URL, "S3_SECRET_ACCESS_KEY": "secret"], "S3_ACCESS_KEY_ID"),
            (["STORAGE_URL": s3URL, "S3_ACCESS_KEY_ID": "AKID"], "S3_SECRET_ACCESS_KEY"),
            (["STORAGE_URL": s3URL, "S3_ACCESS_KEY_ID": "AKID", "S3_SECRET_ACCESS_KEY": "CHANGE-ME"], "S3_SECRET_ACCESS_KEY"),
            (["STORAGE_URL": "s3://parley-files"], "STORAGE_URL"),
            (["STORAGE_URL": "/var/files"], "STORAGE_URL"),
            (["ATTACHMENT_MAX_BYTES": "off"], "ATTACHMENT_MAX_BYTES"),
            (["ATTACHMENT_MAX_BYTES": "25MB"], "ATTACHMENT_MAX_BYTES"),
            (["ATTACHMENT_QUOTA_BYTES": "-1"], "ATTACHMENT_QUOTA_BYTES"),
            (["RATE_UPLOADS": "lots"], "RATE_UPLOADS"),
        ]
        for (environment, variable) in refused {
            #expect { _ = try Configuration(environment: environment) } throws: { ($0 as? Configuration.Error)?.variable == variable }
        }
        let unlimited = try Configuration(environment: ["ATTACHMENT_QUOTA_BYTES": "off", "ATTACHMENT_MAX_PENDING": "off", "RATE_UPLOADS": "off"])
        #expect(unlimited.chatLimits.attachmentQuotaBytes == nil && unlimited.chatLimits.attachmentMaxPending == nil)
        #expect(unlimited.chatLimits.uploads == nil)
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
