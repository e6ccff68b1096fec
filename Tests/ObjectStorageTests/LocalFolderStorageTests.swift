import Foundation
import Testing
@testable import ObjectStorage

@Suite struct LocalFolderStorageTests {
    func storage() throws -> LocalFolderStorage {
        let folder = NSTemporaryDirectory() + "parley-files-\(UUID().uuidString)"
        return try LocalFolderStorage(folder: folder, secret: String(repeating: "k", count: 32))
    }

    func parts(_ url: String) -> (expires: Int64, signature: String) {
        let items = URLComponents(string: url)!.queryItems!
        return (Int64(items.first { $0.name == "expires" }!.value!)!, items.first { $0.name == "signature" }!.value!)
    }

    @Test func uploadURLCarriesItsPermission() throws {
        let storage = try storage()
        let target = storage.uploadTarget(key: "att_abc", size: 10, contentType: "image/png", expiresAt: 1000, origin: "https://chat.example")
        #expect(target.url.hasPrefix("https://chat.example/attachments/att_abc/content?expires=1000&signature="))
        #expect(target.headers == ["Content-Type": "image/png"])
        let (expires, signature) = parts(target.url)
        #expect(storage.acceptsUpload(key: "att_abc", size: 10, contentType: "image/png", expiresAt: expires, signature: signature, now: 999))
        // Another object, size, type or expiry, or a later time, is refused.
        #expect(!storage.acceptsUpload(key: "att_abd", size: 10, contentType: "image/png", expiresAt: expires, signature: signature, now: 999))
        #expect(!storage.acceptsUpload(key: "att_abc", size: 11, contentType: "image/png", expiresAt: expires, signature: signature, now: 999))
        #expect(!storage.acceptsUpload(key: "att_abc", size: 10, contentType: "text/html", expiresAt: expires, signature: signature, now: 999))
        #expect(!storage.acceptsUpload(key: "att_abc", size: 10, contentType: "image/png", expiresAt: 2000, signature: signature, now: 999))
        #expect(!storage.acceptsUpload(key: "att_abc", size: 10, contentType: "image/png", expiresAt: expires, signature: signature, now: 1001))
        #expect(!storage.acceptsUpload(key: "att_abc", size: 10, contentType: "image/png", expiresAt: expires, signature: "00", now: 999))
    }

    @Test func anotherSecretSignsDifferently() throws {
        let one = try storage()
        let other = try LocalFolderStorage(folder: one.folder, secret: String(repeating: "j", count: 32))
        let (expires, signature) = parts(one.uploadTarget(key: "att_a", size: 1, contentType: "a/b", expiresAt: 50, origin: "http://x").url)
        #expect(!other.acceptsUpload(key: "att_a", size: 1, contentType: "a/b", expiresAt: expires, signature: signature, now: 1))
    }

    @Test func keysNeverLeaveTheFolder() throws {
        let storage = try storage()
        #expect(storage.path(of: "att_AZ09-_") == storage.folder + "/att_AZ09-_")
        #expect(storage.path(of: "../../etc/passwd") == storage.folder + "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd")
        #expect(storage.path(of: "") == storage.folder + "/%")
    }

    @Test func completeDeleteAndSize() async throws {
        let storage = try storage()
        #expect(try await storage.storedSize(key: "att_x") == nil)
        try Data("hello".utf8).write(to: URL(fileURLWithPath: storage.partialPath(of: "att_x")))
        #expect(try await storage.storedSize(key: "att_x") == nil)  // a partial upload is not stored
        try storage.complete(key: "att_x")
        #expect(try await storage.storedSize(key: "att_x") == 5)
        try await storage.delete(key: "att_x")
        try await storage.delete(key: "att_x")  // twice is fine
        #expect(try await storage.storedSize(key: "att_x") == nil)
    }
}
