import Foundation

/// What an announced upload may be, and how it is served back. Pure rules, shared by the
/// announcement and the download, tested alone.
public enum AttachmentRules {
    /// At most this many files in one message.
    public static let maxPerMessage = 10

    /// Image types shown inline. SVG is not one of them: it can carry script, so it is served
    /// as a download like any other file.
    public static let inlineImageTypes: Set<String> = ["image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"]

    /// The last component of what the client called the file: a name is kept as a name, never
    /// a path (`../../etc/passwd` is `passwd`, `C:\\x\\report.pdf` is `report.pdf`); control
    /// and direction-override characters are refused; at most 255 bytes.
    public static func name(_ raw: String) throws -> String {
        try Validate.noNUL(raw, field: "name")
        // Split on code points, not characters: a separator joined to a neighbour in one grapheme
        // (a prepended mark before it, a combining mark after it) is still a separator.
        let last = raw.unicodeScalars.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map { String(String.UnicodeScalarView($0)) } ?? ""
        let trimmed = last.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed != ".", trimmed != ".." else {
            throw APIError.invalidField("name", "name must be a file name.")
        }
        // Bidirectional overrides would let `invoice\u{202E}fdp.exe` show as `invoiceexe.pdf`.
        let disguising: (Unicode.Scalar) -> Bool = { (0x202A...0x202E).contains($0.value) || (0x2066...0x2069).contains($0.value) }
        guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || disguising($0) }) else {
            throw APIError.invalidField("name", "name must not contain control or direction-override characters.")
        }
        guard trimmed.utf8.count <= 255 else { throw APIError.invalidField("name", "name must be at most 255 bytes.") }
        return trimmed
    }

    /// A media type `type/subtype` (RFC 6838 §4.2 characters), lower-cased, parameters dropped;
    /// empty is `application/octet-stream`, as a browser reports a file it cannot type.
    public static func contentType(_ raw: String) throws -> String {
        let essence = raw.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        if essence.isEmpty { return "application/octet-stream" }
        let parts = essence.split(separator: "/", omittingEmptySubsequences: false)
        func token(_ part: Substring) -> Bool {
            !part.isEmpty && part.count <= 127 && part.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || "!#$&-^_.+".utf8.contains(byte)
            }
        }
        guard parts.count == 2, token(parts[0]), token(parts[1]) else {
            throw APIError.invalidField("contentType", "contentType must be a media type like image/png.")
        }
        return essence
    }

    /// An image's size in pixels, as the browser measured it; nil when not given.
    public static func dimension(_ value: Int?, field: String) throws -> Int? {
        guard let value else { return nil }
        guard (1...100_000).contains(value) else { throw APIError.invalidField(field, "\(field) must be 1 to 100000.") }
        return value
    }

    /// A size as people read it: `25 MiB`, `1.5 GiB`, `900 bytes`.
    public static func readable(_ bytes: Int64) -> String {
        let units = ["KiB", "MiB", "GiB", "TiB"]
        guard bytes >= 1024 else { return "\(bytes) bytes" }
        var value = Double(bytes) / 1024, unit = 0
        while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
        let rounded = (value * 10).rounded() / 10
        let text = rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
        return "\(text) \(units[unit])"
    }

    public static func isInline(_ contentType: String) -> Bool { inlineImageTypes.contains(contentType) }

    /// The type a download is served with: an inline image's own, anything else as bytes, so
    /// no browser renders an uploaded page or script whatever it was announced as.
    public static func servedType(_ contentType: String) -> String {
        isInline(contentType) ? contentType : "application/octet-stream"
    }

    /// `Content-Disposition` (RFC 6266) with the name as a quoted ASCII fallback and as
    /// `filename*` in UTF-8 (RFC 8187): `inline` for images, `attachment` for everything else.
    public static func disposition(name: String, contentType: String) -> String {
        let kind = isInline(contentType) ? "inline" : "attachment"
        let fallback = String(name.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && scalar.value >= 0x20 && scalar != "\"" && scalar != "\\" && scalar != "%" ? Character(scalar) : "_"
        })
        var encoded = ""
        for byte in name.utf8 {
            let safe = (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || "!#$&+-.^_`|~".utf8.contains(byte)
            if safe { encoded.unicodeScalars.append(Unicode.Scalar(byte)) } else {
                let hex = Array("0123456789ABCDEF".utf8)
                encoded += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]], as: UTF8.self)
            }
        }
        return "\(kind); filename=\"\(fallback)\"; filename*=UTF-8''\(encoded)"
    }

    /// The `Content-Security-Policy` of a download: a document opened from it runs nothing and
    /// loads nothing, and is in an origin of its own (`sandbox`).
    public static let downloadPolicy = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
}
