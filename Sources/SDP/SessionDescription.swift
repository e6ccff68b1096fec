/// A parsed SDP session description (RFC 8866): the session part and its m-sections, with
/// every line kept in order so that `serialize()` writes back what was parsed (line endings
/// normalised to CRLF).
///
/// Parsing is strict about the structure (`v=0`, `o=`, `s=` first, `<letter>=<value>` lines, no
/// control characters, bounded size) and lenient about what it does not need to understand: unknown
/// attributes and fields are kept, not rejected. Both CRLF and bare LF line endings are accepted
/// (RFC 8866 §5 asks parsers to accept LF).
public struct SessionDescription: Sendable, Equatable {
    public var origin: SDPOrigin
    public var sessionName: String
    /// Session-level `c=`, `b=`, `t=`, `r=`, `z=`, `i=`, `u=`, `e=`, `p=`, `k=` lines, in order.
    public var fields: [SDPField]
    public var attributes: [SDPAttribute]
    public var media: [MediaSection]

    public init(
        origin: SDPOrigin, sessionName: String = "-", fields: [SDPField] = [SDPField("t", "0 0")],
        attributes: [SDPAttribute] = [], media: [MediaSection] = []
    ) {
        self.origin = origin
        self.sessionName = sessionName
        self.fields = fields
        self.attributes = attributes
        self.media = media
    }

    public init(parsing text: String) throws(SDPError) {
        let byteCount = text.utf8.count
        guard byteCount <= SDPLimits.maxBytes else { throw .tooLarge(bytes: byteCount, limit: SDPLimits.maxBytes) }
        var origin: SDPOrigin?
        var sessionName: String?
        var sawVersion = false
        var fields: [SDPField] = []
        var attributes: [SDPAttribute] = []
        var media: [MediaSection] = []
        var lineNumber = 0
        // "\r\n" is one Character in Swift and counts as a newline, as do "\n" and "\r".
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            if rawLine.isEmpty { continue }
            let line = rawLine.trailingSpacesTrimmed
            guard line.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F || $0 == "\t" }) else {
                throw .malformedLine(line: lineNumber, text: String(line.prefix(80)), reason: "contains control characters")
            }
            guard line.count >= 2, let type = line.first, type.isASCII, type.isLetter, type.isLowercase,
                line[line.index(after: line.startIndex)] == "="
            else {
                throw .malformedLine(line: lineNumber, text: String(line.prefix(80)), reason: "not '<letter>=<value>'")
            }
            let value = line.dropFirst(2)
            if !sawVersion {
                guard type == "v" else { throw .missingSessionLine("v=0") }
                guard value == "0" else {
                    throw .malformedLine(line: lineNumber, text: String(line.prefix(80)), reason: "only SDP version 0 exists")
                }
                sawVersion = true
                continue
            }
            if origin == nil {
                guard type == "o" else { throw .missingSessionLine("o=") }
                origin = try SDPOrigin(parsing: value, lineNumber: lineNumber)
                continue
            }
            if sessionName == nil {
                guard type == "s" else { throw .missingSessionLine("s=") }
                sessionName = String(value)
                continue
            }
            switch type {
            case "m":
                guard media.count < SDPLimits.maxMediaSections else {
                    throw .tooManyMediaSections(limit: SDPLimits.maxMediaSections)
                }
                media.append(try MediaSection(mLine: value, lineNumber: lineNumber))
            case "a":
                let attribute = SDPAttribute(parsing: value)
                guard !attribute.name.isEmpty else {
                    throw .malformedLine(line: lineNumber, text: String(line.prefix(80)), reason: "attribute without a name")
                }
                if media.isEmpty { attributes.append(attribute) } else { media[media.count - 1].attributes.append(attribute) }
            case "v", "o", "s":
                throw .malformedLine(line: lineNumber, text: String(line.prefix(80)), reason: "'\(type)=' may appear only once, at the start")
            default:
                let field = SDPField(type, String(value))
                if media.isEmpty { fields.append(field) } else { media[media.count - 1].fields.append(field) }
            }
        }
        guard sawVersion else { throw .missingSessionLine("v=0") }
        guard let origin else { throw .missingSessionLine("o=") }
        guard let sessionName else { throw .missingSessionLine("s=") }
        self.init(origin: origin, sessionName: sessionName, fields: fields, attributes: attributes, media: media)
    }

    /// The description as SDP text: CRLF line endings, ending with CRLF (RFC 8866 §5).
    public func serialize() -> String {
        var out = "v=0\r\n" + origin.line + "\r\n" + "s=\(sessionName)\r\n"
        for field in fields { out += field.line + "\r\n" }
        for attribute in attributes { out += attribute.line + "\r\n" }
        for section in media { section.serialize(into: &out) }
        return out
    }

    /// The mids of the first `a=group:BUNDLE` (RFC 8843 §7), or nil without one.
    public var bundleMids: [String]? {
        for group in attributes.values(of: "group") {
            let parts = group.split(separator: " ", omittingEmptySubsequences: true)
            if parts.first == "BUNDLE" { return parts.dropFirst().map(String.init) }
        }
        return nil
    }
}

extension Substring {
    public var trailingSpacesTrimmed: Substring {
        var value = self
        while let last = value.last, last == " " || last == "\t" { value = value.dropLast() }
        return value
    }

    public var spacesTrimmed: Substring {
        var value = trailingSpacesTrimmed
        while let first = value.first, first == " " || first == "\t" { value = value.dropFirst() }
        return value
    }
}
