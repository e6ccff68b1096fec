import Foundation
import Testing
@testable import ObjectStorage

/// The examples of Amazon S3's "Authenticating Requests (AWS Signature Version 4)" pages: the
/// same key pair, time and request give the same signature.
@Suite struct SigV4SignerTests {
    let signer = SigV4Signer(credentials: SigV4Credentials(
        accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1"))
    let time = SigV4Timestamp(Date(timeIntervalSince1970: 1_369_353_600))  // 2013-05-24T00:00:00Z

    @Test func timestampSpellings() {
        #expect(time.amzDate == "20130524T000000Z")
        #expect(time.date == "20130524")
    }

    /// "Authenticating Requests: Using Query Parameters", the presigned GET of test.txt.
    @Test func presignedURLExample() {
        let query = signer.presignedQuery(method: "GET", host: "examplebucket.s3.amazonaws.com", encodedPath: "/test.txt",
                                          time: time, expires: 86400)
        #expect(query == "X-Amz-Algorithm=AWS4-HMAC-SHA256"
            + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    /// "Authenticating Requests: Using the Authorization Header", the GET Object example with a Range.
    @Test func authorizationHeaderExample() {
        let headers = signer.authorizationHeaders(method: "GET", host: "examplebucket.s3.amazonaws.com", encodedPath: "/test.txt",
                                                  headers: [("Range", "bytes=0-9")], time: time)
        let authorization = headers.first { $0.0 == "Authorization" }?.1
        #expect(authorization == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(headers.contains { $0 == ("x-amz-date", "20130524T000000Z") })
    }

    /// The same example's GET Bucket Lifecycle (a query with an empty value) and ListObjects
    /// (sorted query parameters).
    @Test func queryExamples() {
        let lifecycle = signer.authorizationHeaders(method: "GET", host: "examplebucket.s3.amazonaws.com", encodedPath: "/",
                                                    query: [("lifecycle", "")], time: time)
        #expect(lifecycle.last?.1.hasSuffix("Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543") == true)
        let list = signer.authorizationHeaders(method: "GET", host: "examplebucket.s3.amazonaws.com", encodedPath: "/",
                                               query: [("prefix", "J"), ("max-keys", "2")], time: time)
        #expect(list.last?.1.hasSuffix("Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7") == true)
    }

    @Test func encodingKeepsOnlyUnreserved() {
        #expect(SigV4Encoding.encode("a b/c~d_e.f-g+h=é") == "a%20b%2Fc~d_e.f-g%2Bh%3D%C3%A9")
        #expect(SigV4Encoding.encode("attachments/a b", keepSlash: true) == "attachments/a%20b")
    }

    @Test func signedHeadersChangeTheSignature() {
        let plain = signer.presignedQuery(method: "PUT", host: "h", encodedPath: "/b/k", time: time, expires: 900)
        let sized = signer.presignedQuery(method: "PUT", host: "h", encodedPath: "/b/k", time: time, expires: 900,
                                          signedHeaders: [("content-length", "5"), ("content-type", "image/png")])
        #expect(sized.contains("X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost"))
        #expect(plain != sized)
    }

    @Test func secretNeverPrinted() {
        #expect(!"\(signer.credentials)".contains("wJalr"))
    }
}
