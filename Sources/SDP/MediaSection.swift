/// One m-section (RFC 8866 §5.14): the `m=` line and the lines up to the next `m=`.
public struct MediaSection: Sendable, Equatable {
    /// The media type token: `audio`, `video`, `application`, ...
    public var media: String
    /// 0 rejects the section (RFC 3264 §6), unless `a=bundle-only` (RFC 8843 §6).
    public var port: UInt16
    /// The optional `/<number of ports>` of the m-line.
    public var portCount: UInt16?
    /// The transport protocol, e.g. `UDP/TLS/RTP/SAVPF` or `UDP/DTLS/SCTP`.
    public var proto: String
    /// The format list: RTP payload types for RTP protocols.
    public var formats: [String]
    /// `c=`, `b=`, `i=`, `k=` lines, in order.
    public var fields: [SDPField]
    public var attributes: [SDPAttribute]

    public init(
        media: String, port: UInt16, portCount: UInt16? = nil, proto: String, formats: [String],
        fields: [SDPField] = [], attributes: [SDPAttribute] = []
    ) {
        self.media = media
        self.port = port
        self.portCount = portCount
        self.proto = proto
        self.formats = formats
        self.fields = fields
        self.attributes = attributes
    }

    /// Parses the value of an `m=` line: `<media> <port>[/<number>] <proto> <fmt> ...`.
    public init(mLine value: Substring, lineNumber: Int) throws(SDPError) {
        let parts = value.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count >= 3 else {
            throw .malformedLine(line: lineNumber, text: "m=" + value.prefix(80), reason: "needs <media> <port> <proto> <formats>")
        }
        guard parts.count - 3 <= SDPLimits.maxFormats else { throw .tooManyItems(what: "formats in one m-line", limit: SDPLimits.maxFormats) }
        let portParts = parts[1].split(separator: "/", omittingEmptySubsequences: false)
        guard portParts.count <= 2, let port = UInt16(portParts[0]) else {
            throw .malformedLine(line: lineNumber, text: "m=" + value.prefix(80), reason: "the port is not a number from 0 to 65535")
        }
        var count: UInt16?
        if portParts.count == 2 {
            guard let n = UInt16(portParts[1]) else {
                throw .malformedLine(line: lineNumber, text: "m=" + value.prefix(80), reason: "bad number of ports")
            }
            count = n
        }
        guard parts[0].allSatisfy(\.isSDPTokenCharacter), parts[2].allSatisfy({ $0.isSDPTokenCharacter || $0 == "/" }) else {
            throw .malformedLine(line: lineNumber, text: "m=" + value.prefix(80), reason: "bad media or protocol token")
        }
        self.init(
            media: String(parts[0]), port: port, portCount: count, proto: String(parts[2]),
            formats: parts.dropFirst(3).map(String.init))
    }

    /// The media kind, for audio and video sections.
    public var kind: MediaKind? { MediaKind(rawValue: media) }

    /// The `a=mid` value (RFC 8843 §9.1).
    public var mid: String? { attributes.value(of: "mid") }

    /// Whether this is an RTP section with DTLS-SRTP and RTCP feedback (`UDP/TLS/RTP/SAVPF` or
    /// `TCP/DTLS/RTP/SAVPF`, RFC 8829 §5.1.2 / §5.1.3).
    public var isDTLSSRTP: Bool { proto.hasSuffix("RTP/SAVPF") || proto.hasSuffix("RTP/SAVP") }

    /// Port 0 without `a=bundle-only` means the section is rejected or stopped (RFC 8843 §6).
    public var isRejected: Bool { port == 0 && !attributes.has("bundle-only") }

    /// The direction attribute, falling back to the session's and then to sendrecv (RFC 8866 §6.7).
    public func direction(session: [SDPAttribute]) -> SDPDirection {
        SDPDirection.find(in: attributes) ?? SDPDirection.find(in: session) ?? .sendrecv
    }

    /// The first value of `name` in this section, else at session level (for attributes that
    /// may appear at either, like `a=ice-ufrag` or `a=setup`).
    public func value(of name: String, session: [SDPAttribute]) -> String? {
        attributes.value(of: name) ?? session.value(of: name)
    }

    /// The m-line without its line ending.
    public var mLine: String {
        var line = "m=\(media) \(port)"
        if let portCount { line += "/\(portCount)" }
        line += " \(proto)"
        for format in formats { line += " \(format)" }
        return line
    }

    /// Appends the section's lines, each ending with CRLF.
    public func serialize(into out: inout String) {
        out += mLine + "\r\n"
        for field in fields { out += field.line + "\r\n" }
        for attribute in attributes { out += attribute.line + "\r\n" }
    }
}

extension Character {
    /// RFC 8866 §9 `token-char`: visible ASCII except the separators.
    public var isSDPTokenCharacter: Bool {
        guard let ascii = asciiValue, ascii > 0x20, ascii < 0x7F else { return false }
        return !"\"(),/:;<=>?@[\\]{}".contains(self)
    }
}
