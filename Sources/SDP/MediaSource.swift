/// The sender identification of a publish m-section: `a=msid` (RFC 8830 §2), `a=ssrc` and
/// `a=ssrc-group:FID` (RFC 5576 §4.1, §4.2; RFC 4588 §8.6 for the RTX pairing).
public struct MediaSource: Sendable, Equatable {
    public var ssrc: UInt32?
    public var rtxSSRC: UInt32?
    public var streamId: String?
    public var trackId: String?

    public init(section: MediaSection, simulcast: Bool) throws(SDPError) {
        let mid = section.mid
        var firstSSRC: UInt32?
        var fid: (UInt32, UInt32)?
        var ssrcMsid: [(UInt32, Substring)] = []
        for attribute in section.attributes {
            guard let value = attribute.value else { continue }
            switch attribute.name {
            case "ssrc":
                let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
                guard let first = parts.first, let ssrc = UInt32(first) else {
                    throw .malformedAttribute(mid: mid, attribute: "ssrc:" + value.prefix(80), reason: "needs '<ssrc 0-4294967295> <attribute>'")
                }
                if firstSSRC == nil { firstSSRC = ssrc }
                if parts.count == 2, parts[1].hasPrefix("msid:") { ssrcMsid.append((ssrc, parts[1].dropFirst(5))) }
            case "ssrc-group":
                let parts = value.split(separator: " ", omittingEmptySubsequences: true)
                guard parts.first == "FID", fid == nil else { continue }
                guard parts.count == 3, let primary = UInt32(parts[1]), let repair = UInt32(parts[2]) else {
                    throw .malformedAttribute(mid: mid, attribute: "ssrc-group:" + value.prefix(80), reason: "needs 'FID <ssrc> <rtx ssrc>'")
                }
                fid = (primary, repair)
            default:
                continue
            }
        }
        if !simulcast {
            ssrc = fid?.0 ?? firstSSRC
            rtxSSRC = fid?.1
        }
        var msid: Substring? = section.attributes.value(of: "msid").map { Substring($0) }
        if msid == nil, let primary = ssrc ?? firstSSRC { msid = ssrcMsid.first { $0.0 == primary }?.1 }
        if let msid {
            let parts = msid.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 1 || parts.count == 2,
                parts.allSatisfy({ $0.utf8.count <= SDPLimits.maxIdentifierLength })
            else {
                throw .malformedAttribute(mid: mid, attribute: "msid:" + msid.prefix(80), reason: "needs '<stream id> [<track id>]' of at most 255 characters each")
            }
            streamId = String(parts[0])
            trackId = parts.count == 2 ? String(parts[1]) : nil
        }
    }
}
