/// One payload type of an m-section as the peer described it: its `a=rtpmap`, `a=fmtp` and
/// `a=rtcp-fb` lines (RFC 8866 §6.6, §6.15; RFC 4585 §4.2).
public struct OfferedPayload: Sendable {
    public var payloadType: UInt8
    /// Encoding name as written (e.g. `VP8`, `opus`, `rtx`); nil for a static payload type without rtpmap.
    public var encodingName: String?
    public var clockRate: UInt32
    public var channels: UInt8
    public var fmtp: String
    public var feedback: [String]

    /// A label for error messages, e.g. `AV1` or `PT 0`.
    public var label: String { encodingName ?? "PT \(payloadType)" }

    /// The payload types of `section`, in m-line order, with their rtpmap/fmtp/rtcp-fb lines.
    /// Formats that are not 0-127 are an error; attributes for payload types not in the m-line
    /// are ignored.
    public static func all(in section: MediaSection) throws(SDPError) -> [OfferedPayload] {
        let mid = section.mid
        var payloads: [OfferedPayload] = []
        payloads.reserveCapacity(section.formats.count)
        for format in section.formats {
            guard let pt = UInt8(format), pt <= 127 else {
                throw .malformedAttribute(mid: mid, attribute: "m=\(section.media) format \(format.prefix(20))", reason: "an RTP payload type is 0-127")
            }
            payloads.append(OfferedPayload(payloadType: pt, encodingName: nil, clockRate: 0, channels: 1, fmtp: "", feedback: []))
        }
        func index(_ value: String, attribute: String) throws(SDPError) -> (Int?, Substring) {
            let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            guard parts.count == 2 else {
                throw .malformedAttribute(mid: mid, attribute: "\(attribute):" + value.prefix(80), reason: "needs '<payload type> <value>'")
            }
            if parts[0] == "*" { return (-1, parts[1]) }
            guard let pt = UInt8(parts[0]), pt <= 127 else {
                throw .malformedAttribute(mid: mid, attribute: "\(attribute):" + value.prefix(80), reason: "payload type is not 0-127")
            }
            return (payloads.firstIndex { $0.payloadType == pt }, parts[1])
        }
        for attribute in section.attributes {
            guard let value = attribute.value else { continue }
            switch attribute.name {
            case "rtpmap":
                let (found, rest) = try index(value, attribute: "rtpmap")
                guard let i = found, i >= 0 else { continue }
                let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
                guard parts.count == 2 || parts.count == 3, !parts[0].isEmpty, let clock = UInt32(parts[1]),
                    parts.count == 2 || UInt8(parts[2]) != nil
                else {
                    throw .malformedAttribute(mid: mid, attribute: "rtpmap:" + value.prefix(80), reason: "needs '<pt> <name>/<clock rate>[/<channels>]'")
                }
                payloads[i].encodingName = String(parts[0])
                payloads[i].clockRate = clock
                payloads[i].channels = parts.count == 3 ? UInt8(parts[2]) ?? 1 : 1
            case "fmtp":
                let (found, rest) = try index(value, attribute: "fmtp")
                if let i = found, i >= 0 { payloads[i].fmtp = String(rest.spacesTrimmed) }
            case "rtcp-fb":
                let (found, rest) = try index(value, attribute: "rtcp-fb")
                let feedback = rest.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
                guard let i = found else { continue }
                for j in (i == -1 ? payloads.indices : i..<(i + 1)) where !payloads[j].feedback.contains(feedback) {
                    guard payloads[j].feedback.count < 32 else { throw .tooManyItems(what: "rtcp-fb values for one payload type", limit: 32) }
                    payloads[j].feedback.append(feedback)
                }
            default:
                continue
            }
        }
        return payloads
    }
}
