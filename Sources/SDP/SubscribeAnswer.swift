/// What a subscriber's answer to a subscribe offer accepted (RFC 8829 §5.3.1, read by Parley as
/// the offerer, §5.8).
public struct SubscribeAnswer: Sendable, Equatable {
    /// The subscriber's ICE credentials and fingerprints; nil when the answer accepted nothing,
    /// as there is then no transport to read.
    public var remote: RemoteTransport?
    /// m-sections the answer accepted: port != 0 and direction recvonly or sendrecv.
    public var acceptedMids: [String]
    /// Those of `acceptedMids` whose answer kept the RTX payload type (RFC 4588).
    public var rtxAcceptedMids: [String]
    /// Some accepted video section kept `a=rtcp-fb:<pt> goog-remb`.
    public var remb: Bool
    /// Per accepted mid, the header extension ids the answer kept (the offered ids, RFC 8285 §6).
    public var extensions: [String: HeaderExtensionMap]

    public init(
        remote: RemoteTransport?, acceptedMids: [String], rtxAcceptedMids: [String], remb: Bool,
        extensions: [String: HeaderExtensionMap]
    ) {
        self.remote = remote
        self.acceptedMids = acceptedMids
        self.rtxAcceptedMids = rtxAcceptedMids
        self.remb = remb
        self.extensions = extensions
    }
}

extension SDPNegotiator {
    /// Reads a subscriber's answer to the offer made of `offered` (the same tracks, in the same
    /// order, that were given to `subscribeOffer`).
    ///
    /// The answer must mirror the offer's m-sections in order with the same mids (RFC 8829
    /// §5.3.1), take the DTLS client role with `a=setup:active` (Parley offered actpass and is
    /// always the server, RFC 5763 §5), keep the offered payload type in every section it accepts,
    /// and keep the offered header extension ids (RFC 8285 §6).
    public static func parseSubscribeAnswer(_ answer: String, offered: [SubscribeTrack]) throws(SDPError) -> SubscribeAnswer {
        let sdp = try SessionDescription(parsing: answer)
        let session = sdp.attributes
        guard sdp.media.count == offered.count else {
            throw .answerSectionCount(offered: offered.count, answered: sdp.media.count)
        }
        var accepted: [String] = []
        var rtxAccepted: [String] = []
        var remb = false
        var extensions: [String: HeaderExtensionMap] = [:]
        var transportSection: MediaSection?
        for (index, (section, track)) in zip(sdp.media, offered).enumerated() {
            guard section.mid == track.mid else {
                throw .answerMidMismatch(index: index, offered: track.mid, answered: section.mid.map { String($0.prefix(80)) })
            }
            guard track.active, section.port != 0, section.direction(session: session).receives else { continue }
            let setup = RemoteTransport.setup(of: section, session: session) ?? "(none)"
            guard setup == "active" else { throw .unsupportedSetup(found: String(setup.prefix(40))) }
            let payloads = try OfferedPayload.all(in: section)
            guard let payload = payloads.first(where: { $0.payloadType == track.codec.payloadType }) else {
                throw .answerDroppedCodec(mid: track.mid, payloadType: track.codec.payloadType)
            }
            if transportSection == nil { transportSection = section }
            accepted.append(track.mid)
            if let rtx = track.codec.rtxPayloadType, payloads.contains(where: { $0.payloadType == rtx }) {
                rtxAccepted.append(track.mid)
            }
            if track.kind == .video && payload.feedback.contains("goog-remb") { remb = true }
            let offeredExtensions = track.kind == .audio ? subscribeAudioExtensions : subscribeVideoExtensions
            var map = HeaderExtensionMap()
            for mapping in try ExtensionMapping.all(in: section) {
                guard let known = HeaderExtension(rawValue: mapping.uri),
                    let offeredMapping = offeredExtensions.first(where: { $0.uri == mapping.uri })
                else { continue }
                guard mapping.id == offeredMapping.id else {
                    throw .answerExtensionIdChanged(mid: track.mid, uri: mapping.uri, offered: offeredMapping.id, answered: mapping.id)
                }
                map[known] = mapping.id
            }
            extensions[track.mid] = map
        }
        // With nothing accepted there is no transport to read.
        let remote: RemoteTransport? = accepted.isEmpty ? nil : try RemoteTransport(section: transportSection, session: session)
        return SubscribeAnswer(
            remote: remote, acceptedMids: accepted, rtxAcceptedMids: rtxAccepted, remb: remb, extensions: extensions)
    }
}
