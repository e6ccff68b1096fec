import ChatAPI
import ChatTestSupport
import Foundation
import Hummingbird
import Testing
@testable import ObjectStorage

/// Attachments (docs/protocol.md "Attachments") on both databases and both storages: the round
/// trip from announcement to download, what only members reach, deletion with the message,
/// the limits, hostile names, types and sizes, and the sweep of uploads nobody sent.
@Suite("Attachments")
struct AttachmentTests {
    static let text = Array("meeting notes\n".utf8)

    func dm(_ api: TestAPI, _ a: Person, _ b: Person) async throws -> String {
        let reply = try await api.request(.post, "/conversations", as: a, json: ["kind": "dm", "userId": b.id])
        return try #require(reply.string("id"))
    }

    /// `person` with a new access token (the old one expired while the clock moved on).
    func renewed(_ api: TestAPI, _ person: Person) async throws -> Person {
        try TestAPI.person(from: try await api.request(.post, "/auth/refresh", json: ["refreshToken": person.refreshToken]))
    }

    func sendFiles(_ api: TestAPI, _ ids: [String], content: String = "", in conversation: String, as person: Person,
                   clientMsgId: String? = nil) async throws -> Reply {
        var body: [String: Any] = ["content": content, "attachmentIds": ids]
        if let clientMsgId { body["clientMsgId"] = clientMsgId }
        return try await api.request(.post, "/conversations/\(conversation)/messages", as: person, json: body)
    }

    @Test("a member uploads and sends a file; the other member receives and downloads it; a stranger gets 404; deleting the message deletes the file",
          arguments: TestBackend.allCases, TestStorage.allCases)
    func roundTrip(_ backend: TestBackend, _ kind: TestStorage) async throws {
        let events = RecordingEvents(), storage = try kind.make()
        try await withAPI(backend, events: events.sink, storage: storage) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob"), eve = try await api.signUp("Eve")
            let conversation = try await dm(api, ada, bob)
            let id = try await api.attach(Self.text, to: conversation, as: ada)
            let sent = try await sendFiles(api, [id], in: conversation, as: ada, clientMsgId: "k1")
            #expect(sent.status == .created)
            let attachments = try #require(sent["attachments"] as? [[String: Any]])
            #expect(attachments.count == 1 && attachments[0]["id"] as? String == id && attachments[0]["name"] as? String == "notes.txt")
            #expect(attachments[0]["size"] as? Int == Self.text.count && attachments[0]["url"] as? String == "/attachments/\(id)")
            #expect(events.newMessages.last?.attachments.map(\.id) == [id], "announced with the message")
            // A repeat of the clientMsgId is the same message, files and all.
            let repeated = try await sendFiles(api, [id], in: conversation, as: ada, clientMsgId: "k1")
            #expect(repeated.status == .ok && repeated.string("id") == sent.string("id"))

            let history = try await api.request(.get, "/conversations/\(conversation)/messages", as: bob)
            let first = try #require((history["messages"] as? [[String: Any]])?.first)
            #expect((first["attachments"] as? [[String: Any]])?.first?["id"] as? String == id)
            let list = try await api.request(.get, "/conversations", as: bob)
            let last = ((list["conversations"] as? [[String: Any]])?.first?["lastMessage"] as? [String: Any])
            #expect((last?["attachments"] as? [[String: Any]])?.count == 1)

            let fetched = try await api.download(id, as: bob)
            #expect(fetched.status == 200 && fetched.bytes == Self.text, "\(fetched.status) \(String(decoding: fetched.bytes, as: UTF8.self))")
            #expect(fetched.headers["content-disposition"]?.hasPrefix("attachment;") == true)
            #expect(fetched.headers["content-type"] == "application/octet-stream")
            #expect(try await api.download(id, as: eve).status == 404)
            #expect(try await api.request(.post, "/conversations/\(conversation)/attachments", as: eve,
                                          json: ["name": "x", "size": 1, "contentType": "text/plain"]).status == .notFound)

            let messageId = try #require(sent.string("id"))
            #expect(try await api.request(.delete, "/conversations/\(conversation)/messages/\(messageId)", as: ada).status == .noContent)
            #expect(try await api.download(id, as: bob).status == 404)
            #expect(try await api.download(id, as: ada).status == 404)
            #expect(try await storage.storedSize(key: id) == nil, "the bytes are gone with the message")
            let after = try await api.request(.get, "/conversations/\(conversation)/messages", as: bob)
            #expect(((after["messages"] as? [[String: Any]])?.first?["attachments"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("a member removed from a group no longer reaches its files", arguments: TestBackend.allCases)
    func removedMember(_ backend: TestBackend) async throws {
        try await withAPI(backend) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob")
            let group = try await api.createGroup(ada, members: [bob])
            let id = try await api.attach(Self.text, to: group, as: ada)
            #expect(try await sendFiles(api, [id], content: "the notes", in: group, as: ada).status == .created)
            #expect(try await api.download(id, as: bob).status == 200)
            #expect(try await api.request(.delete, "/conversations/\(group)/members/\(bob.id)", as: ada).status == .noContent)
            #expect(try await api.download(id, as: bob).status == 404)
        }
    }

    @Test("an upload no message refers to is removed after 24 hours; a sent one is kept",
          arguments: TestBackend.allCases, TestStorage.allCases)
    func sweep(_ backend: TestBackend, _ kind: TestStorage) async throws {
        let storage = try kind.make(), clock = TestClock()
        try await withAPI(backend, clock: clock, storage: storage) { api in
            var ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob")
            let conversation = try await dm(api, ada, bob)
            let sent = try await api.attach(Self.text, to: conversation, as: ada)
            #expect(try await sendFiles(api, [sent], in: conversation, as: ada).status == .created)
            let unsent = try await api.attach(Self.text, name: "draft.txt", to: conversation, as: ada)
            let announcedOnly = try #require((try await api.request(
                .post, "/conversations/\(conversation)/attachments", as: ada,
                json: ["name": "never.txt", "size": 5, "contentType": "text/plain"])["attachment"] as? [String: Any])?["id"] as? String)

            clock.advance(seconds: 23 * 3600)
            ada = try await renewed(api, ada)
            #expect(try await api.services.attachments.sweep() == 0)
            #expect(try await api.download(unsent, as: ada).status == 200, "its uploader still reaches it")

            clock.advance(seconds: 2 * 3600)
            (ada, bob) = (try await renewed(api, ada), try await renewed(api, bob))
            #expect(try await api.services.attachments.sweep() == 2)
            #expect(try await storage.storedSize(key: unsent) == nil)
            #expect(try await api.download(unsent, as: ada).status == 404)
            #expect(try await api.services.attachments.storage.storedSize(key: announcedOnly) == nil)
            // Too late to send it now.
            #expect(try await sendFiles(api, [unsent], in: conversation, as: ada).errorField == "attachmentIds")
            #expect(try await api.download(sent, as: bob).bytes == Self.text)
            #expect(try await storage.storedSize(key: sent) == Int64(Self.text.count))
        }
    }

    @Test("size past ATTACHMENT_MAX_BYTES is 413, past the quota or the pending cap limit_reached", arguments: TestBackend.allCases)
    func limits(_ backend: TestBackend) async throws {
        var limits = ChatLimits.unlimited
        limits.attachmentMaxBytes = 100
        limits.attachmentQuotaBytes = 150
        limits.attachmentMaxPending = 3
        try await withAPI(backend, limits: limits) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob")
            let conversation = try await dm(api, ada, bob)
            func announce(_ size: Int) async throws -> Reply {
                try await api.request(.post, "/conversations/\(conversation)/attachments", as: ada,
                                      json: ["name": "f.bin", "size": size, "contentType": "application/octet-stream"])
            }
            let tooLarge = try await announce(101)
            #expect(tooLarge.status == .contentTooLarge && tooLarge.errorCode == "payload_too_large")
            #expect(try await announce(-1).errorField == "size")
            #expect(try await announce(100).status == .created)
            let overQuota = try await announce(60)
            #expect(overQuota.status == .conflict && overQuota.errorCode == "limit_reached")
            #expect(String(buffer: overQuota.body).contains("ATTACHMENT_QUOTA_BYTES"))
            #expect(try await announce(10).status == .created)
            #expect(try await announce(10).status == .created)
            let pending = try await announce(1)
            #expect(pending.errorCode == "limit_reached" && String(buffer: pending.body).contains("ATTACHMENT_MAX_PENDING"))
            // Another user has a quota of their own.
            let bobs = try await api.request(.post, "/conversations/\(conversation)/attachments", as: bob,
                                             json: ["name": "f.bin", "size": 100, "contentType": "application/octet-stream"])
            #expect(bobs.status == .created)
        }
    }

    @Test("a message carries at most ten files, each a complete upload of the sender to that conversation, sent once")
    func whatAMessageMayCarry() async throws {
        try await withAPI(.sqlite) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob"), cyd = try await api.signUp("Cyd")
            let conversation = try await dm(api, ada, bob), other = try await dm(api, ada, cyd)
            let bobs = try await api.attach(Self.text, to: conversation, as: bob)
            #expect(try await sendFiles(api, [bobs], in: conversation, as: ada).errorField == "attachmentIds", "someone else's")
            let elsewhere = try await api.attach(Self.text, to: other, as: ada)
            #expect(try await sendFiles(api, [elsewhere], in: conversation, as: ada).errorField == "attachmentIds", "another conversation's")
            let incomplete = try #require((try await api.request(
                .post, "/conversations/\(conversation)/attachments", as: ada,
                json: ["name": "x.txt", "size": 3, "contentType": "text/plain"])["attachment"] as? [String: Any])?["id"] as? String)
            #expect(try await sendFiles(api, [incomplete], in: conversation, as: ada).errorField == "attachmentIds", "not uploaded")
            var eleven: [String] = []
            for _ in 0..<11 { eleven.append(try await api.attach([1], to: conversation, as: ada)) }
            #expect(try await sendFiles(api, eleven, in: conversation, as: ada).errorField == "attachmentIds")
            #expect(try await sendFiles(api, [eleven[0], eleven[0]], in: conversation, as: ada).errorField == "attachmentIds")
            #expect(try await sendFiles(api, ["../../etc/passwd"], in: conversation, as: ada).errorField == "attachmentIds")
            // Without files, content is still required; with them it may be empty. Order is kept.
            #expect(try await sendFiles(api, [], in: conversation, as: ada).errorField == "content")
            let ten = Array(eleven.prefix(10).reversed())
            let sent = try await sendFiles(api, ten, in: conversation, as: ada)
            #expect((sent["attachments"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ten)
            let page = try await api.request(.get, "/conversations/\(conversation)/messages", as: bob)
            let stored = (page["messages"] as? [[String: Any]])?.last?["attachments"] as? [[String: Any]]
            #expect(stored?.compactMap { $0["id"] as? String } == ten, "history keeps the order given")
            #expect(try await sendFiles(api, [ten[0]], in: conversation, as: ada).errorField == "attachmentIds", "sent once")
            // Nothing of that failed send was stored.
            #expect((page["messages"] as? [[String: Any]])?.count == 1)
        }
    }

    @Test("names stay names, types are checked, and pages or scripts are only ever downloads")
    func hostileNamesAndTypes() async throws {
        try await withAPI(.sqlite) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob")
            let conversation = try await dm(api, ada, bob)
            func announce(_ name: String, _ type: String = "text/plain") async throws -> Reply {
                try await api.request(.post, "/conversations/\(conversation)/attachments", as: ada,
                                      json: ["name": name, "size": 1, "contentType": type])
            }
            func name(_ reply: Reply) -> String? { (reply["attachment"] as? [String: Any])?["name"] as? String }
            #expect(name(try await announce("../../etc/passwd")) == "passwd")
            #expect(name(try await announce("C:\\Users\\ada\\report.pdf")) == "report.pdf")
            #expect(name(try await announce("  spaced name.txt ")) == "spaced name.txt")
            #expect(try await announce("../").errorField == "name")
            #expect(try await announce("a\u{0}b").errorField == "name")
            #expect(try await announce("line\nbreak.txt").errorField == "name")
            #expect(try await announce("invoice\u{202E}fdp.exe").errorField == "name")
            #expect(try await announce(String(repeating: "é", count: 200)).errorField == "name")
            #expect(try await announce("x", "text/html; charset=utf-8").json["attachment"] != nil)
            #expect(try await announce("x", "not a type").errorField == "contentType")
            #expect(try await announce("x", "text/<script>").errorField == "contentType")
            let untyped = try await announce("x", "")
            #expect((untyped["attachment"] as? [String: Any])?["contentType"] as? String == "application/octet-stream")

            let page = Array("<script>alert(document.cookie)</script>".utf8)
            let svg = Array(#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#.utf8)
            let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
            let html = try await api.attach(page, name: "evil.html", contentType: "text/html", to: conversation, as: ada)
            let image = try await api.attach(svg, name: "logo.svg", contentType: "image/svg+xml", to: conversation, as: ada)
            let picture = try await api.attach(png, name: "shot.png", contentType: "image/png", to: conversation, as: ada)
            #expect(try await sendFiles(api, [html, image, picture], in: conversation, as: ada).status == .created)
            for id in [html, image] {
                let fetched = try await api.download(id, as: bob)
                #expect(fetched.headers["content-type"] == "application/octet-stream")
                #expect(fetched.headers["content-disposition"]?.hasPrefix("attachment; filename=") == true)
                #expect(fetched.headers["x-content-type-options"] == "nosniff")
                #expect(fetched.headers["content-security-policy"]?.hasPrefix("sandbox") == true)
            }
            let shown = try await api.download(picture, as: bob)
            #expect(shown.headers["content-type"] == "image/png" && shown.headers["content-disposition"]?.hasPrefix("inline;") == true)
            #expect(shown.headers["content-security-policy"]?.hasPrefix("sandbox") == true && shown.bytes == png)
        }
    }

    @Test("a local upload URL is the permission for exactly one file, its size, for 15 minutes")
    func localUploadURL() async throws {
        let clock = TestClock()
        try await withAPI(.sqlite, clock: clock) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob")
            let conversation = try await dm(api, ada, bob)
            func announce() async throws -> (id: String, upload: [String: Any]) {
                let reply = try await api.request(.post, "/conversations/\(conversation)/attachments", as: ada,
                                                  json: ["name": "a.txt", "size": 5, "contentType": "text/plain"])
                return (try #require((reply["attachment"] as? [String: Any])?["id"] as? String),
                        try #require(reply["upload"] as? [String: Any]))
            }
            let (id, upload) = try await announce()
            var tampered = upload
            tampered["url"] = (upload["url"] as! String).replacingOccurrences(of: "signature=", with: "signature=0")
            #expect(try await api.upload(Array("hello".utf8), to: tampered) == 403)
            let (otherId, _) = try await announce()
            var another = upload
            another["url"] = (upload["url"] as! String).replacingOccurrences(of: id, with: otherId)
            #expect(try await api.upload(Array("hello".utf8), to: another) == 403, "another file's URL")
            #expect(try await api.upload(Array("hell".utf8), to: upload) == 400, "short")
            #expect(try await api.upload(Array("hello!".utf8), to: upload) == 400, "long")
            #expect(try await api.services.attachments.storage.storedSize(key: id) == nil, "nothing kept of either")
            #expect(try await api.upload(Array("hello".utf8), to: upload) == 204, "a retry with the right bytes")
            #expect(try await api.upload(Array("hello".utf8), to: upload) == 409, "once")
            let (late, lateUpload) = try await announce()
            clock.advance(seconds: 16 * 60)
            #expect(try await api.upload(Array("hello".utf8), to: lateUpload) == 403, "expired")
            #expect(try await sendFiles(api, [late], in: conversation, as: try await renewed(api, ada)).errorField == "attachmentIds")
        }
    }

    @Test("with S3, the store refuses a body of another size, and an object of the wrong size never reaches a message")
    func s3SizeMismatch() async throws {
        let storage = try TestStorage.s3.make()
        let s3 = try #require(storage as? S3Storage)
        try await withAPI(.sqlite, storage: storage) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob")
            let conversation = try await dm(api, ada, bob)
            let reply = try await api.request(.post, "/conversations/\(conversation)/attachments", as: ada,
                                              json: ["name": "a.txt", "size": 10, "contentType": "text/plain"])
            let id = try #require((reply["attachment"] as? [String: Any])?["id"] as? String)
            let upload = try #require(reply["upload"] as? [String: Any])
            #expect(try await api.upload(Array("short".utf8), to: upload) == 403, "the signed content-length is enforced")
            var tampered = upload
            tampered["url"] = (upload["url"] as! String) + "0"
            #expect(try await api.upload(Array("0123456789".utf8), to: tampered) == 403, "a changed signature")
            #expect(try await sendFiles(api, [id], in: conversation, as: ada).errorField == "attachmentIds", "nothing uploaded")
            // A store that did not check the length: the object put there directly, 3 bytes.
            let path = s3.encodedPath(of: id)
            let headers = s3.signer.authorizationHeaders(
                method: "PUT", host: s3.host, encodedPath: path, payloadHash: SigV4Signer.unsignedPayload,
                time: SigV4Timestamp(Date()))
            let put = try await StoreRequest.send("PUT", s3.bucket.endpoint + path, bytes: [1, 2, 3],
                                                  headers: Dictionary(uniqueKeysWithValues: headers))
            #expect(put.status == 200)
            let refused = try await sendFiles(api, [id], in: conversation, as: ada)
            #expect(refused.errorField == "attachmentIds" && String(buffer: refused.body).contains("3 bytes"))
            #expect(try await storage.storedSize(key: id) == nil, "the wrong object is deleted")
            #expect(try await api.download(id, as: ada).status == 404)
        }
    }
}

@Suite struct AttachmentRulesTests {
    @Test func readableSizes() {
        #expect(AttachmentRules.readable(900) == "900 bytes")
        #expect(AttachmentRules.readable(25 * 1024 * 1024) == "25 MiB")
        #expect(AttachmentRules.readable(1536 * 1024 * 1024) == "1.5 GiB")
    }

    /// RFC 6266 with RFC 8187: a quoted ASCII fallback, the UTF-8 name percent-encoded.
    @Test func dispositionKeepsTheNameAndNothingElse() {
        #expect(AttachmentRules.disposition(name: "report.pdf", contentType: "application/pdf")
            == #"attachment; filename="report.pdf"; filename*=UTF-8''report.pdf"#)
        #expect(AttachmentRules.disposition(name: #"a"b;c é.png"#, contentType: "image/png")
            == #"inline; filename="a_b;c _.png"; filename*=UTF-8''a%22b%3Bc%20%C3%A9.png"#)
    }

    @Test func servedTypes() {
        #expect(AttachmentRules.servedType("image/png") == "image/png")
        #expect(AttachmentRules.servedType("image/svg+xml") == "application/octet-stream")
        #expect(AttachmentRules.servedType("text/html") == "application/octet-stream")
    }
}

extension AttachmentRulesTests {
    /// Found by the `attachment` fuzz target: a separator that is part of a larger grapheme (a
    /// prepended mark before it, a combining mark after it) still separates.
    @Test func separatorsInsideGraphemes() throws {
        #expect(try AttachmentRules.name("a\u{070F}\\b.txt") == "b.txt")
        #expect(try AttachmentRules.name("dir/\u{0301}evil.txt") == "\u{0301}evil.txt")
        let fuzzed = "C\u{FFFD}\\Use*rs\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}S\u{070F}\\pxooto \u{E9}ur"
        #expect(try AttachmentRules.name(fuzzed) == "pxooto \u{E9}ur")
    }
}

extension AttachmentTests {
    @Test("with Accept: application/json a member learns where the bytes are instead of being sent there",
          arguments: TestStorage.allCases)
    func locationAsJSON(_ kind: TestStorage) async throws {
        let storage = try kind.make()
        try await withAPI(.sqlite, storage: storage) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob"), eve = try await api.signUp("Eve")
            let conversation = try await dm(api, ada, bob)
            let id = try await api.attach(Self.text, to: conversation, as: ada)
            #expect(try await sendFiles(api, [id], in: conversation, as: ada).status == .created)
            let located = try await api.request(.get, "/attachments/\(id)", as: bob, headers: [.accept: "application/json"])
            #expect(located.status == .ok)
            let url = try #require(located.string("url"))
            switch kind {
            case .folder: #expect(url == "/attachments/\(id)")
            case .s3:
                #expect(url.hasPrefix("http") && url.contains("X-Amz-Signature="))
                #expect(located.headers[.cacheControl] == "no-store")
                let fetched = try await StoreRequest.send("GET", url)
                #expect(fetched.status == 200 && fetched.body == Self.text, "fetched without any token")
            }
            #expect(try await api.request(.get, "/attachments/\(id)", as: eve, headers: [.accept: "application/json"]).status == .notFound)
        }
    }
}

extension AttachmentTests {
    @Test("a store that does not answer is 503 unavailable, and nothing is sent")
    func storeUnavailable() async throws {
        // A bucket on a port nothing listens on: the HEAD before the send fails.
        let unreachable = S3Storage(
            bucket: .init(bucket: "parley-files", endpoint: "http://127.0.0.1:9", region: "us-east-1"),
            accessKeyId: "AKID", secretAccessKey: "secret", timeout: .milliseconds(500))
        try await withAPI(.sqlite, storage: unreachable) { api in
            let ada = try await api.signUp("Ada"), bob = try await api.signUp("Bob")
            let conversation = try await dm(api, ada, bob)
            let announced = try await api.request(.post, "/conversations/\(conversation)/attachments", as: ada,
                                                  json: ["name": "a.txt", "size": 3, "contentType": "text/plain"])
            let id = try #require((announced["attachment"] as? [String: Any])?["id"] as? String)
            let refused = try await sendFiles(api, [id], content: "see", in: conversation, as: ada)
            #expect(refused.status == .serviceUnavailable && refused.errorCode == "unavailable")
            let page = try await api.request(.get, "/conversations/\(conversation)/messages", as: bob)
            #expect((page["messages"] as? [Any])?.isEmpty == true)
        }
    }
}

@Suite struct UploadsInFlightTests {
    /// One upload per file at a time: a second connection for the same URL is refused until the
    /// first ends, and ending gives the file back.
    @Test func oneAtATimePerFile() {
        let uploads = UploadsInFlight()
        #expect(uploads.claim("att_a") && uploads.claim("att_b"))
        #expect(!uploads.claim("att_a"))
        uploads.release("att_a")
        #expect(uploads.claim("att_a"))
        uploads.release("att_a")
        uploads.release("att_b")
        #expect(uploads.count == 0)
    }
}
