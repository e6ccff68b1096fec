/// The result of answering a publish offer.
public struct PublishNegotiation: Sendable {
    /// The answer SDP: CRLF line endings, ending with CRLF.
    public var answer: String
    /// Accepted sections that send media to Parley, in m-line order.
    public var media: [PublishedMedia]
    /// The publisher's ICE credentials and certificate fingerprints (its BUNDLE transport's).
    public var remote: RemoteTransport

    public init(answer: String, media: [PublishedMedia], remote: RemoteTransport) {
        self.answer = answer
        self.media = media
        self.remote = remote
    }
}

extension SDPNegotiator {
    /// Answers a publish offer (RFC 8829 §5.3.1).
    ///
    /// Every m-section is mirrored in order with its mid. Audio and video sections that send
    /// (sendonly/sendrecv) are answered `recvonly` with one codec (see `CodecSelection`), its RTX
    /// payload type, the header extensions Parley uses, and `a=simulcast:recv` when the offer
    /// simulcasts (RFC 8853 §5.3); those that do not send are answered `inactive`. Other kinds
    /// (data channels) are rejected with port 0 (RFC 3264 §6, RFC 8843 §7.3.3).
    ///
    /// An offer sending more than `maxTracks` sections, or a video section simulcasting more than
    /// `SDPLimits.maxSimulcastEncodings` encodings, is refused whole: each sending section becomes
    /// a track with state in the media engine, so their number is what bounds a publisher's memory.
    public static func negotiatePublish(offer: String, local: LocalTransport,
                                        maxTracks: Int = SDPLimits.defaultMaxPublishTracks) throws(SDPError) -> PublishNegotiation {
        let sdp = try SessionDescription(parsing: offer)
        let session = sdp.attributes
        try checkMids(sdp.media)
        // Counted before any section is planned, so an oversized offer costs no codec matching.
        let sending = sdp.media.count { $0.kind != nil && !$0.isRejected && $0.direction(session: session).sends }
        guard sending <= maxTracks else { throw .tooManyTracks(found: sending, limit: maxTracks) }
        let bundle = sdp.bundleMids

        var plans: [SectionPlan] = []
        for (index, section) in sdp.media.enumerated() {
            plans.append(try plan(section, index: index, session: session))
        }
        let accepted = sdp.media.indices.filter { plans[$0].isAccepted }
        for (n, i) in accepted.enumerated() {
            let section = sdp.media[i]
            let mid = section.mid ?? ""
            if let bundle {
                guard bundle.contains(mid) else { throw .bundleRequired(mid: mid) }
            } else if n > 0 {
                throw .bundleRequired(mid: mid)
            }
            guard section.attributes.has("rtcp-mux") else { throw .rtcpMuxRequired(mid: mid) }
            // RFC 4145 §4: no a=setup means active. Parley answers passive and is the DTLS server.
            let setup = RemoteTransport.setup(of: section, session: session) ?? "active"
            guard setup == "actpass" || setup == "active" else { throw .unsupportedSetup(found: String(setup.prefix(40))) }
        }
        // The BUNDLE transport is the first accepted section's (RFC 8843 §7.3.1).
        let remote = try RemoteTransport(section: accepted.first.map { sdp.media[$0] } ?? sdp.media.first, session: session)

        let acceptedMids = accepted.compactMap { sdp.media[$0].mid }
        var answer = local.session(version: 2, bundle: acceptedMids)
        var media: [PublishedMedia] = []
        for (index, section) in sdp.media.enumerated() {
            answer.media.append(answerSection(for: section, plan: plans[index], local: local))
            if case .receive(let published, _, _, _) = plans[index] { media.append(published) }
        }
        return PublishNegotiation(answer: answer.serialize(), media: media, remote: remote)
    }

    /// What Parley does with one offered m-section.
    public enum SectionPlan {
        /// Receive media: the negotiated result, the extmaps to answer, the simulcast offer, and
        /// whether the offer asked for reduced-size RTCP (RFC 5506).
        case receive(PublishedMedia, extensions: [ExtensionMapping], simulcast: SimulcastOffer?, rtcpRsize: Bool)
        /// Accepted but no media flows (the offer does not send): answered inactive with this payload.
        case inactive(OfferedPayload?)
        /// Rejected with port 0.
        case reject

        public var isAccepted: Bool {
            if case .reject = self { false } else { true }
        }
    }

    /// Every section needs a unique mid that is an SDP token (RFC 8843 §9.1, RFC 8866 §9).
    public static func checkMids(_ sections: [MediaSection]) throws(SDPError) {
        var seen: Set<String> = []
        for (index, section) in sections.enumerated() {
            guard let mid = section.mid else { throw .missingMid(index: index) }
            guard !mid.isEmpty, mid.utf8.count <= SDPLimits.maxIdentifierLength, mid.allSatisfy(\.isSDPTokenCharacter) else {
                throw .malformedAttribute(mid: nil, attribute: "mid:" + mid.prefix(80), reason: "a mid is 1-255 token characters (RFC 8843 §9.1)")
            }
            guard seen.insert(mid).inserted else { throw .duplicateMid(mid) }
        }
    }

    public static func plan(_ section: MediaSection, index: Int, session: [SDPAttribute]) throws(SDPError) -> SectionPlan {
        guard let kind = section.kind, !section.isRejected else { return .reject }
        let mid = section.mid ?? ""
        let direction = section.direction(session: session)
        guard section.isDTLSSRTP else {
            if direction.sends { throw .unsupportedProtocol(mid: mid, proto: String(section.proto.prefix(40))) }
            return .reject
        }
        let payloads = try OfferedPayload.all(in: section)
        guard direction.sends else { return .inactive(payloads.first) }

        // Header extensions the publisher will send (RFC 8285 §7): offered without a direction,
        // sendrecv or sendonly. Only the six Parley uses are kept, with the offer's ids.
        var extensions: [ExtensionMapping] = []
        var map = HeaderExtensionMap()
        for mapping in try ExtensionMapping.all(in: section) {
            guard let known = HeaderExtension(rawValue: mapping.uri), mapping.direction?.sends ?? true, map[known] == 0 else { continue }
            guard !extensions.contains(where: { $0.id == mapping.id }) else {
                throw .malformedAttribute(mid: mid, attribute: "extmap:\(mapping.id)", reason: "the id is used for two extensions (RFC 8285 §5)")
            }
            map[known] = mapping.id
            extensions.append(
                ExtensionMapping(id: mapping.id, direction: mapping.direction == nil ? nil : .recvonly, uri: mapping.uri))
        }
        guard let codec = CodecSelection.choose(kind: kind, from: payloads, transportCC: map.transportWideCC != 0) else {
            throw .noCommonCodec(kind: kind, mid: mid, index: index, offered: offeredLabels(payloads))
        }
        let simulcast = kind == .video ? try SimulcastOffer.find(in: section) : nil
        if let rids = simulcast?.allRids, rids.count > SDPLimits.maxSimulcastEncodings {
            throw .tooManySimulcastEncodings(mid: mid, found: rids.count, limit: SDPLimits.maxSimulcastEncodings)
        }
        let source = try MediaSource(section: section, simulcast: simulcast != nil)
        let published = PublishedMedia(
            mid: mid, kind: kind, codec: codec, extensions: map, simulcastRids: simulcast?.activeRids ?? [],
            ssrc: source.ssrc, rtxSSRC: source.rtxSSRC, streamId: source.streamId, trackId: source.trackId)
        return .receive(published, extensions: extensions, simulcast: simulcast, rtcpRsize: section.attributes.has("rtcp-rsize"))
    }

    /// The offered codecs for an error message, without RTX/RED/FEC/DTMF/CN helpers and duplicates.
    public static func offeredLabels(_ payloads: [OfferedPayload]) -> [String] {
        let helpers: Set<String> = ["rtx", "red", "ulpfec", "flexfec-03", "telephone-event", "cn"]
        var labels: [String] = []
        for payload in payloads {
            var label = payload.label
            if let name = payload.encodingName {
                if helpers.contains(name.lowercased()) { continue }
                let parameters = FormatParameters(payload.fmtp)
                if name.lowercased() == "h264" {
                    label += " \(parameters["profile-level-id"] ?? "420010") packetization-mode=\(parameters["packetization-mode"] ?? "0")"
                } else if let profile = parameters["profile-id"] {
                    label += " profile-id=\(profile)"
                }
                if name.lowercased() == "opus" { label += "/\(payload.clockRate)/\(payload.channels)" }
            }
            if !labels.contains(label) { labels.append(label) }
        }
        return labels
    }

    /// The answer's m-section for `section` (RFC 8829 §5.3.1).
    public static func answerSection(for section: MediaSection, plan: SectionPlan, local: LocalTransport) -> MediaSection {
        let mid = SDPAttribute("mid", section.mid ?? "")
        switch plan {
        case .reject:
            return MediaSection(
                media: section.media, port: 0, proto: section.proto, formats: section.formats,
                fields: [local.connectionField], attributes: [mid])
        case .inactive(let payload):
            var attributes = [mid, SDPAttribute("inactive")] + local.transportAttributes(setup: "passive")
            attributes += local.candidateAttributes
            var formats = section.formats.prefix(1).map { $0 }
            if let payload {
                formats = [String(payload.payloadType)]
                if let name = payload.encodingName {
                    let channels = payload.channels > 1 ? "/\(payload.channels)" : ""
                    attributes.append(SDPAttribute("rtpmap", "\(payload.payloadType) \(name)/\(payload.clockRate)\(channels)"))
                }
            }
            return MediaSection(
                media: section.media, port: 9, proto: section.proto, formats: formats, fields: [local.connectionField],
                attributes: attributes)
        case .receive(let published, let extensions, let simulcast, let rtcpRsize):
            var attributes = [mid, SDPAttribute("recvonly")] + local.transportAttributes(setup: "passive")
            if rtcpRsize { attributes.append(SDPAttribute("rtcp-rsize")) }
            attributes += local.candidateAttributes
            attributes += published.codec.attributes
            for mapping in extensions { attributes.append(SDPAttribute("extmap", mapping.value)) }
            if let simulcast {
                // RFC 8851 §4 / RFC 8853 §5.3: the answer mirrors each rid with the other direction.
                for rid in simulcast.allRids { attributes.append(SDPAttribute("rid", "\(rid) recv")) }
                attributes.append(SDPAttribute("simulcast", "recv \(simulcast.listValue)"))
            }
            return MediaSection(
                media: section.media, port: 9, proto: section.proto, formats: published.codec.formats,
                fields: [local.connectionField], attributes: attributes)
        }
    }
}
