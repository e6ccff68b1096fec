import CFuzzDriver
import ChatAPI
import Glibc
import ObjectStorage

// libFuzzer target: what a client writes about a file (its name and media type, from
// `POST /conversations/{id}/attachments`) and what Parley writes back from it: the header
// `Content-Disposition` (RFC 6266, RFC 8187) and SigV4's encoding of the storage key and the
// presigned query. Input: the name, a NUL byte, the media type. Whatever is accepted must come
// out as a name (no path, no control character, at most 255 bytes), a media type of token
// characters, a header value without line breaks or stray quotes, and SigV4 text of
// unreserved characters and %XX only.

private func check(_ condition: Bool, _ what: String) {
    if !condition { preconditionFailure(what) }
}

func fuzzAttachment(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let split = bytes.firstIndex(of: 0) ?? size
    let rawName = String(decoding: UnsafeBufferPointer(rebasing: bytes[..<split]), as: UTF8.self)
    let rawType = split < size ? String(decoding: UnsafeBufferPointer(rebasing: bytes[(split + 1)...]), as: UTF8.self) : ""

    let contentType = try? AttachmentRules.contentType(rawType)
    if let contentType {
        let parts = contentType.split(separator: "/", omittingEmptySubsequences: false)
        check(parts.count == 2 && contentType == contentType.lowercased(), "media type \(contentType)")
        check(!contentType.contains(where: { $0.isWhitespace || $0 == ";" || $0 == "\"" }), "media type \(contentType)")
    }
    guard let name = try? AttachmentRules.name(rawName) else { return 0 }
    check(!name.isEmpty && name.utf8.count <= 255 && name != "." && name != "..", "name \(name)")
    check(!name.contains("/") && !name.contains("\\"), "a path kept: \(name)")
    check(!name.unicodeScalars.contains { $0.properties.generalCategory == .control }, "control character kept")

    let disposition = AttachmentRules.disposition(name: name, contentType: contentType ?? "application/octet-stream")
    check(!disposition.contains("\r") && !disposition.contains("\n"), "line break in the header")
    check(disposition.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }, "not ASCII: \(disposition)")
    check(disposition.filter { $0 == "\"" }.count == 2, "quotes in the fallback: \(disposition)")

    let encoded = SigV4Encoding.encode(name, keepSlash: true)
    check(encoded.utf8.allSatisfy { byte in
        byte == UInt8(ascii: "%") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "~")
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
    }, "SigV4 encoding \(encoded)")
    let signer = SigV4Signer(credentials: SigV4Credentials(accessKeyId: "AKID", secretAccessKey: "secret", region: "us-east-1"))
    let query = signer.presignedQuery(
        method: "GET", host: "store.example", encodedPath: "/bucket/attachments/att_x", time: SigV4Timestamp(.init(timeIntervalSince1970: 0)),
        expires: 300, query: [("response-content-disposition", disposition)])
    let signature = query.split(separator: "=").last ?? ""
    check(!query.contains(" ") && !query.contains("\"") && signature.count == 64 && signature.allSatisfy(\.isHexDigit), "query \(query)")
    return 0
}

@main
enum AttachmentFuzz {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzAttachment))
    }
}
