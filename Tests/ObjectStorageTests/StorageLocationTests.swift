import Testing
@testable import ObjectStorage

@Suite struct StorageLocationTests {
    @Test func defaultsToTheFolder() throws {
        #expect(try StorageLocation.parse(nil, defaultFolder: "/data/files") == .folder(path: "/data/files"))
        #expect(try StorageLocation.parse("file:///srv/files", defaultFolder: "/x") == .folder(path: "/srv/files"))
    }

    @Test func s3WithEndpointAndRegion() throws {
        let location = try StorageLocation.parse("s3://parley-files?endpoint=https://s3.eu-west-1.amazonaws.com/&region=eu-west-1",
                                                 defaultFolder: "/x")
        #expect(location == .s3(.init(bucket: "parley-files", endpoint: "https://s3.eu-west-1.amazonaws.com", region: "eu-west-1")))
        let local = try StorageLocation.parse("s3://b12?endpoint=http://127.0.0.1:9000", defaultFolder: "/x")
        #expect(local == .s3(.init(bucket: "b12", endpoint: "http://127.0.0.1:9000", region: "us-east-1")))
    }

    @Test(arguments: [
        "file://relative/path", "s3://", "s3://Bucket_Upper?endpoint=https://x", "s3://bucket",
        "s3://bucket/key?endpoint=https://x", "s3://bucket?endpoint=ftp://x", "s3://bucket?endpoint=https://x/path",
        "http://example.com",
    ])
    func refusesWhatItCannotUse(_ text: String) {
        #expect(throws: StorageLocation.ParseError.self) { try StorageLocation.parse(text, defaultFolder: "/x") }
    }
}
