import ChatAPI
import ChatTestSupport
import Foundation
import Hummingbird
import SQLKit
import Testing

/// REFRESH_REUSE_GRACE: a refresh token retried soon after its rotation, while its successor
/// is unused, is not reuse.
@Suite struct RefreshGraceTests {
    static func refresh(_ api: TestAPI, _ token: String) async throws -> Reply {
        try await api.request(.post, "/auth/refresh", json: ["refreshToken": token])
    }

    @Test("a retry within the grace gets a new pair for the same login; the unused successor is spent", arguments: TestBackend.allCases)
    func retryWithinGrace(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada")
            let lost = try await Self.refresh(api, ada.refreshToken)
            #expect(lost.status == .ok)
            api.clock.advance(seconds: 5)
            let retry = try await Self.refresh(api, ada.refreshToken)
            #expect(retry.status == .ok)
            let current = try TestAPI.person(from: retry)
            #expect(current.refreshToken != lost.string("refreshToken"))
            #expect(try await api.request(.get, "/users/me", as: current).status == .ok)
            let next = try await Self.refresh(api, current.refreshToken)
            #expect(next.status == .ok, "the new token works")
            // The successor handed out the first time was never used and now is spent.
            let stale = try await Self.refresh(api, try #require(lost.string("refreshToken")))
            #expect(stale.errorCode == "token_reused")
        }
    }

    @Test("a retry after the successor was used is reuse and revokes the login", arguments: TestBackend.allCases)
    func retryAfterSuccessorUsed(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada")
            let first = try TestAPI.person(from: try await Self.refresh(api, ada.refreshToken))
            let second = try TestAPI.person(from: try await Self.refresh(api, first.refreshToken))
            let replay = try await Self.refresh(api, ada.refreshToken)
            #expect(replay.status == .unauthorized)
            #expect(replay.errorCode == "token_reused")
            #expect(try await api.request(.get, "/users/me", as: second).status == .unauthorized)
            #expect(try await Self.refresh(api, second.refreshToken).status == .unauthorized)
        }
    }

    @Test("REFRESH_REUSE_GRACE=0 turns the grace off, even for a retry in the same millisecond", arguments: TestBackend.allCases)
    func zeroGrace(_ backend: TestBackend) async throws {
        var limits = ChatLimits.unlimited
        limits.refreshReuseGraceSeconds = 0
        try await withAPI(backend, limits: limits) { api in
            let ada = try await api.signUp("Ada")
            let first = try TestAPI.person(from: try await Self.refresh(api, ada.refreshToken))
            // The test clock has not moved: the retry comes 0 ms after the rotation.
            let replay = try await Self.refresh(api, ada.refreshToken)
            #expect(replay.errorCode == "token_reused")
            #expect(try await Self.refresh(api, first.refreshToken).status == .unauthorized)
        }
    }

    @Test("a retry after the grace is reuse and revokes the login", arguments: TestBackend.allCases)
    func retryAfterGrace(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada")
            let first = try TestAPI.person(from: try await Self.refresh(api, ada.refreshToken))
            api.clock.advance(seconds: 11)
            let replay = try await Self.refresh(api, ada.refreshToken)
            #expect(replay.errorCode == "token_reused")
            #expect(try await Self.refresh(api, first.refreshToken).status == .unauthorized)
        }
    }

    @Test("two refreshes of one token at once both succeed, leaving one live token", arguments: TestBackend.allCases)
    func concurrentDoubleRefresh(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada")
            async let one = Self.refresh(api, ada.refreshToken)
            async let two = Self.refresh(api, ada.refreshToken)
            let replies = try await [one, two]
            #expect(replies.map(\.status) == [.ok, .ok])
            for reply in replies {
                #expect(try await api.request(.get, "/users/me", as: try TestAPI.person(from: reply)).status == .ok)
            }
            let unused = try await api.services.database.sql.raw("""
                SELECT COUNT(*) AS n FROM refresh_tokens t JOIN refresh_tokens first ON first.login_id = t.login_id
                WHERE first.token_hash = \(bind: RefreshToken.hash(of: ada.refreshToken)) AND t.used_at IS NULL
                """).first()?.decode(column: "n", as: Int.self)
            #expect(unused == 1)
        }
    }
}
