import Testing
@testable import SFU

@Suite struct TurnCredentialsTests {
    @Test func usernameIsExpiryColonUser() {
        let credentials = TurnCredentials(secret: "s3cret", userId: "user-1", now: 1_700_000_000, ttl: 86400)
        #expect(credentials.username == "1700086400:user-1")
    }

    /// The expected value was computed independently:
    /// `printf '1700086400:user-1' | openssl dgst -sha1 -hmac s3cret -binary | base64`.
    @Test func credentialIsBase64HmacSha1OfTheUsername() {
        let credentials = TurnCredentials(secret: "s3cret", userId: "user-1", now: 1_700_000_000, ttl: 86400)
        #expect(credentials.credential == "/+mDX3UsBuyUE1+5YlY70Hf2SGs=")
    }

    @Test func anotherSecretGivesAnotherCredential() {
        let a = TurnCredentials(secret: "one", userId: "u", now: 0, ttl: 60)
        let b = TurnCredentials(secret: "two", userId: "u", now: 0, ttl: 60)
        #expect(a.credential != b.credential)
    }
}
