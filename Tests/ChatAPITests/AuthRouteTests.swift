import ChatAPI
import ChatTestSupport
import Foundation
import Hummingbird
import NIOCore
import HTTPTypes
import JWTKit
import Testing

@Suite("Auth routes")
struct AuthRouteTests {
    @Test("register returns the user, an access token and a refresh token", arguments: TestBackend.allCases)
    func register(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let reply = try await api.request(.post, "/auth/register", json: [
                "email": "Ada@Example.COM", "password": "long enough", "displayName": "Ada",
            ])
            #expect(reply.status == .created)
            let user = try #require(reply["user"] as? [String: Any])
            #expect(user["email"] as? String == "ada@example.com")
            #expect(user["displayName"] as? String == "Ada")
            #expect(user["avatarUrl"] is NSNull)
            #expect(reply["expiresIn"] as? Int == 900)
            #expect((reply.string("refreshToken") ?? "").count >= 43)
        }
    }

    @Test("an email taken in any letter case is a 409 email_taken", arguments: TestBackend.allCases)
    func emailTaken(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            _ = try await api.signUp("Ada", email: "ada@example.com")
            let reply = try await api.request(.post, "/auth/register", json: [
                "email": "ADA@example.com", "password": "long enough", "displayName": "Other",
            ])
            #expect(reply.status == .conflict)
            #expect(reply.errorCode == "email_taken")
        }
    }

    @Test("each invalid register field is a 422 naming it", arguments: TestBackend.allCases)
    func invalidFields(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let valid: [String: Any] = ["email": "x@example.com", "password": "long enough", "displayName": "X"]
            let cases: [(String, Any?)] = [
                ("email", "not-an-email"), ("email", "a b@example.com"), ("email", 42), ("email", nil),
                ("password", "short"), ("password", String(repeating: "p", count: 129)), ("password", nil),
                ("displayName", ""), ("displayName", "   "), ("displayName", String(repeating: "n", count: 65)),
                ("displayName", ["list"]),
            ]
            for (field, value) in cases {
                var body = valid
                body[field] = value
                let reply = try await api.request(.post, "/auth/register", json: body)
                #expect(reply.status == .unprocessableContent, "\(field)=\(String(describing: value))")
                #expect(reply.errorCode == "invalid_field")
                #expect(reply.errorField == field)
            }
        }
    }

    @Test("malformed JSON, a non-object body and an oversize body are refused cleanly", arguments: TestBackend.allCases)
    func badBodies(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let broken = try await api.request(.post, "/auth/register", raw: "{\"email\": ")
            #expect(broken.status == .badRequest)
            #expect(broken.errorCode == "malformed")
            let array = try await api.request(.post, "/auth/login", raw: "[1, 2]")
            #expect(array.status == .badRequest)
            #expect(array.errorCode == "malformed")
            let huge = try await api.request(.post, "/auth/register", raw: "{\"email\": \"" + String(repeating: "a", count: 70_000) + "\"}")
            #expect(huge.status == .contentTooLarge)
            #expect(huge.errorCode == "payload_too_large")
        }
    }

    @Test("login accepts the right password in any email case and refuses a wrong one", arguments: TestBackend.allCases)
    func login(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            _ = try await api.signUp("Ada", email: "ada@example.com", password: "right password")
            let ok = try await api.request(.post, "/auth/login", json: ["email": "ADA@example.com", "password": "right password"])
            #expect(ok.status == .ok)
            #expect(ok.string("accessToken") != nil)
            let wrong = try await api.request(.post, "/auth/login", json: ["email": "ada@example.com", "password": "wrong password"])
            #expect(wrong.status == .unauthorized)
            #expect(wrong.errorCode == "invalid_credentials")
            let unknown = try await api.request(.post, "/auth/login", json: ["email": "nobody@example.com", "password": "right password"])
            #expect(unknown.status == .unauthorized)
            #expect(unknown.errorCode == "invalid_credentials")
        }
    }

    @Test("refresh rotates the pair and a spent refresh token revokes the whole login", arguments: TestBackend.allCases)
    func refreshReuse(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada")
            let first = try await api.request(.post, "/auth/refresh", json: ["refreshToken": ada.refreshToken])
            #expect(first.status == .ok)
            let rotated = try TestAPI.person(from: first)
            #expect(rotated.refreshToken != ada.refreshToken)
            #expect(try await api.request(.get, "/users/me", as: rotated).status == .ok)

            // Past the reuse grace (REFRESH_REUSE_GRACE, 10 s), a spent token is theft.
            api.clock.advance(seconds: 11)
            let reuse = try await api.request(.post, "/auth/refresh", json: ["refreshToken": ada.refreshToken])
            #expect(reuse.status == .unauthorized)
            #expect(reuse.errorCode == "token_reused")
            // The thief's and the victim's tokens of that login all stop working.
            #expect(try await api.request(.get, "/users/me", as: rotated).status == .unauthorized)
            #expect(try await api.request(.get, "/users/me", as: ada).status == .unauthorized)
            let next = try await api.request(.post, "/auth/refresh", json: ["refreshToken": rotated.refreshToken])
            #expect(next.status == .unauthorized)
        }
    }

    @Test("an unknown refresh token is 401 unauthorized", arguments: TestBackend.allCases)
    func unknownRefresh(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let reply = try await api.request(.post, "/auth/refresh", json: ["refreshToken": "nope"])
            #expect(reply.status == .unauthorized)
            #expect(reply.errorCode == "unauthorized")
            let empty = try await api.request(.post, "/auth/refresh", json: ["refreshToken": ""])
            #expect(empty.errorField == "refreshToken")
        }
    }

    @Test("refresh tokens expire after 30 days", arguments: TestBackend.allCases)
    func refreshExpiry(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada")
            api.clock.advance(seconds: 30 * 86400 + 1)
            let reply = try await api.request(.post, "/auth/refresh", json: ["refreshToken": ada.refreshToken])
            #expect(reply.status == .unauthorized)
        }
    }

    @Test("logout ends the login: its access and refresh tokens stop working, others go on", arguments: TestBackend.allCases)
    func logout(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada", email: "ada@example.com", password: "right password")
            let other = try TestAPI.person(from: try await api.request(
                .post, "/auth/login", json: ["email": "ada@example.com", "password": "right password"]))
            #expect(try await api.request(.post, "/auth/logout", json: ["refreshToken": ada.refreshToken]).status == .noContent)
            #expect(try await api.request(.get, "/users/me", as: ada).status == .unauthorized)
            #expect(try await api.request(.post, "/auth/refresh", json: ["refreshToken": ada.refreshToken]).status == .unauthorized)
            #expect(try await api.request(.get, "/users/me", as: other).status == .ok)
            #expect(try await api.request(.post, "/auth/logout", json: ["refreshToken": "unknown"]).status == .unauthorized)
        }
    }

    @Test("no token, a garbage token, a forged token and an expired token are all 401", arguments: TestBackend.allCases)
    func accessTokenChecks(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada")
            let none = try await api.request(.get, "/users/me")
            #expect(none.status == .unauthorized)
            #expect(none.errorCode == "unauthorized")
            var garbage = ada
            garbage.accessToken = "not.a.jwt"
            #expect(try await api.request(.get, "/users/me", as: garbage).status == .unauthorized)

            // Same claims, but the header says "none" and the signature is dropped.
            let parts = ada.accessToken.split(separator: ".")
            var unsigned = ada
            unsigned.accessToken = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.\(parts[1])."
            #expect(try await api.request(.get, "/users/me", as: unsigned).status == .unauthorized)
            var tampered = ada
            tampered.accessToken = "\(parts[0]).\(parts[1]).AAAA\(parts[2].dropFirst(4))"
            #expect(try await api.request(.get, "/users/me", as: tampered).status == .unauthorized)

            // Tokens naming Ada's real, live login: signed with another key, or with the right
            // key but another issuer or audience, or already expired.
            let payload = try #require(Data(base64Encoded: base64(String(parts[1]))))
            let sid = try #require((try JSONSerialization.jsonObject(with: payload) as? [String: Any])?["sid"] as? String)
            let foreign = await AccessTokens(secret: "another-secret-that-is-32-bytes-or-more", clock: api.clock.wallClock)
            var forged = ada
            forged.accessToken = try await foreign.issue(userId: ada.id, loginId: sid)
            #expect(try await api.request(.get, "/users/me", as: forged).status == .unauthorized)
            let keys = JWTKeyCollection()
            await keys.add(hmac: HMACKey(from: "test-secret-that-is-at-least-32-bytes-long"), digestAlgorithm: .sha256)
            let now = api.clock.wallClock.now().date
            for (issuer, audience, expiry) in [("someone-else", "parley-api", now + 600), ("parley", "another-api", now + 600),
                                               ("parley", "parley-api", now - 1)] {
                let claims = AccessClaims(sub: .init(value: ada.id), sid: sid, iss: .init(value: issuer),
                                          aud: .init(value: [audience]), exp: .init(value: expiry), iat: .init(value: now))
                var crafted = ada
                crafted.accessToken = try await keys.sign(claims)
                #expect(try await api.request(.get, "/users/me", as: crafted).status == .unauthorized, "\(issuer) \(audience)")
            }
            // The same construction with the right claims works, so the cases above fail for their claim alone.
            let good = AccessClaims(sub: .init(value: ada.id), sid: sid, iss: .init(value: "parley"),
                                    aud: .init(value: ["parley-api"]), exp: .init(value: now + 600), iat: .init(value: now))
            var rightClaims = ada
            rightClaims.accessToken = try await keys.sign(good)
            #expect(try await api.request(.get, "/users/me", as: rightClaims).status == .ok)

            #expect(try await api.request(.get, "/users/me", as: ada).status == .ok)
            api.clock.advance(seconds: 15 * 60 + 1)
            let expired = try await api.request(.get, "/users/me", as: ada)
            #expect(expired.status == .unauthorized)
        }
    }

    @Test("auth routes are rate limited per client with Retry-After", arguments: TestBackend.allCases)
    func rateLimit(_ backend: TestBackend) async throws {
        try await withAPI(backend, rateLimit: .init(limit: 3, windowMilliseconds: 30_000)) { api in
            for _ in 0..<3 {
                let reply = try await api.request(.post, "/auth/login", json: ["email": "a@b.c", "password": "whatever1"])
                #expect(reply.status == .unauthorized)
            }
            let limited = try await api.request(.post, "/auth/refresh", json: ["refreshToken": "x"])
            #expect(limited.status == .tooManyRequests)
            #expect(limited.errorCode == "rate_limited")
            #expect(limited.headers[.retryAfter] == "30")
            api.clock.advance(seconds: 30)
            #expect(try await api.request(.post, "/auth/login", json: ["email": "a@b.c", "password": "whatever1"]).status == .unauthorized)
        }
    }
}

func base64(_ base64url: String) -> String {
    var text = base64url.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while text.count % 4 != 0 { text += "=" }
    return text
}

@Suite("Client addresses and CORS")
struct ClientAddressTests {
    @Test("X-Forwarded-For is believed only from a trusted proxy, and its last hop is the client")
    func forwardedFor() throws {
        let proxies = TrustedProxies(["127.0.0.1", "::1"])
        let local = try SocketAddress(ipAddress: "127.0.0.1", port: 40000)
        let remote = try SocketAddress(ipAddress: "203.0.113.9", port: 40000)
        #expect(proxies.clientAddress(peer: local, forwardedFor: "198.51.100.1, 192.0.2.7") == "192.0.2.7")
        #expect(proxies.clientAddress(peer: local, forwardedFor: nil) == "127.0.0.1")
        #expect(proxies.clientAddress(peer: remote, forwardedFor: "192.0.2.7") == "203.0.113.9")
    }

    @Test("allowed origins get CORS headers and a request id, on errors too", arguments: TestBackend.allCases)
    func cors(_ backend: TestBackend) async throws {
        try await withAPI(backend, origins: ["https://chat.example.com"]) { api in
            let error = try await api.request(.get, "/users/me", headers: [.origin: "https://chat.example.com"])
            #expect(error.status == .unauthorized)
            #expect(error.headers[.accessControlAllowOrigin] == "https://chat.example.com")
            #expect(error.headers[HTTPField.Name("X-Request-Id")!] != nil)
            let preflight = try await api.request(.options, "/conversations", headers: [
                .origin: "https://chat.example.com", .accessControlRequestMethod: "POST"])
            #expect(preflight.status == .noContent)
            #expect(preflight.headers[.accessControlAllowHeaders]?.contains("Authorization") == true)
            let foreign = try await api.request(.get, "/healthz", headers: [.origin: "https://evil.example.com"])
            #expect(foreign.headers[.accessControlAllowOrigin] == nil)
        }
    }
}
