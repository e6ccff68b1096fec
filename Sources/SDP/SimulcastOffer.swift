/// The simulcast description of a publish m-section: `a=simulcast:send <list>` (RFC 8853 §5.1)
/// with one `a=rid:<id> send` (RFC 8851 §4) per listed rid.
///
/// The list is `;`-separated simulcast streams, each a `,`-separated list of alternative rids; a
/// rid prefixed with `~` is paused. Firefox before version 71 wrote the draft form
/// `a=simulcast: send rid=h;m;l`, which is accepted too.
public struct SimulcastOffer: Sendable, Equatable {
    /// Each simulcast stream's alternatives, as written (with `~` for paused ones).
    public var streams: [[String]]

    /// The rids the publisher will send, in order: the first alternative of each stream, paused
    /// streams dropped.
    public var activeRids: [String] {
        streams.compactMap { alternatives in
            guard let first = alternatives.first, !first.hasPrefix("~") else { return nil }
            return first
        }
    }

    /// Every rid named in the list, without `~`.
    public var allRids: [String] {
        streams.flatMap { $0.map { $0.hasPrefix("~") ? String($0.dropFirst()) : $0 } }
    }

    /// The list in RFC 8853 syntax, e.g. `h;m;l`.
    public var listValue: String {
        streams.map { $0.joined(separator: ",") }.joined(separator: ";")
    }

    /// Reads the section's simulcast send description; nil when it has none.
    public static func find(in section: MediaSection) throws(SDPError) -> SimulcastOffer? {
        guard let value = section.attributes.value(of: "simulcast") else { return nil }
        let mid = section.mid
        func bad(_ reason: String) -> SDPError {
            .malformedAttribute(mid: mid, attribute: "simulcast:" + value.prefix(80), reason: reason)
        }
        let tokens = value.split(separator: " ", omittingEmptySubsequences: true)
        guard tokens.count.isMultiple(of: 2), !tokens.isEmpty else { throw bad("needs 'send <rid>;<rid>...'") }
        var sendList: Substring?
        for pair in stride(from: 0, to: tokens.count, by: 2) {
            switch tokens[pair] {
            case "send": sendList = tokens[pair + 1]
            case "recv": continue
            default: throw bad("direction must be 'send' or 'recv'")
            }
        }
        guard var list = sendList else { return nil }
        if list.hasPrefix("rid=") { list = list.dropFirst(4) }
        var streams: [[String]] = []
        var count = 0
        for stream in list.split(separator: ";", omittingEmptySubsequences: false) {
            var alternatives: [String] = []
            for alternative in stream.split(separator: ",", omittingEmptySubsequences: false) {
                let id = alternative.hasPrefix("~") ? alternative.dropFirst() : alternative
                guard Self.isValidRid(id) else { throw bad("'\(alternative.prefix(40))' is not a rid (1-16 letters, digits, '-' or '_')") }
                count += 1
                guard count <= SDPLimits.maxRids else { throw .tooManyItems(what: "simulcast rids", limit: SDPLimits.maxRids) }
                alternatives.append(String(alternative))
            }
            streams.append(alternatives)
        }
        let offer = SimulcastOffer(streams: streams)
        // RFC 8853 §5.2: every rid in the list needs an a=rid line of the same direction.
        let declared = Set(section.attributes.values(of: "rid").compactMap { value -> String? in
            let parts = value.split(separator: " ", omittingEmptySubsequences: true)
            return parts.count >= 2 && parts[1] == "send" ? String(parts[0]) : nil
        })
        for rid in offer.allRids where !declared.contains(rid) {
            throw bad("rid '\(rid)' has no 'a=rid:\(rid) send' line (RFC 8853 §5.2)")
        }
        guard Set(offer.allRids).count == offer.allRids.count else { throw bad("a rid is listed twice") }
        return offer
    }

    /// RFC 8851 §10 `rid-id = 1*(alpha-numeric / "-" / "_")`, at most 16 characters, the most a
    /// one-byte RTPStreamId header extension carries (RFC 8852 §3.1, RFC 8285 §4.2).
    public static func isValidRid(_ id: Substring) -> Bool {
        !id.isEmpty && id.utf8.count <= 16
            && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }
}
