extension SDPNegotiator {
    /// Header extensions in every subscribe offer, with Parley's fixed ids: the audio level for
    /// active-speaker display (RFC 6464) and abs-send-time for the subscriber's REMB estimate.
    public static let subscribeAudioExtensions: [ExtensionMapping] = [
        ExtensionMapping(id: 1, uri: HeaderExtension.audioLevel.rawValue),
        ExtensionMapping(id: 2, uri: HeaderExtension.absSendTime.rawValue),
    ]
    public static let subscribeVideoExtensions: [ExtensionMapping] = [
        ExtensionMapping(id: 2, uri: HeaderExtension.absSendTime.rawValue),
    ]

    /// The offer for a subscriber's peer connection: one sendonly m-section per track, in order
    /// (RFC 8829 §5.2.1, §5.2.2).
    ///
    /// Each active track is described by `a=msid:<publisher userId> <trackId>` (RFC 8830 §2) and by
    /// its SSRCs (RFC 5576 §4.1), with `a=ssrc-group:FID` pairing the RTX SSRC (RFC 4588 §8.6), so
    /// the subscriber can demultiplex without the mid header extension. Tracks that are gone keep
    /// their section as `a=inactive` (RFC 8829 §5.2.2: the direction says no media flows), still
    /// in the BUNDLE group, until a later track of the same kind takes the section over with its
    /// mid (`CallRoom`), so the offer does not grow with every track that ever came and went. They are not rejected with port 0:
    /// rejecting the section that carries the BUNDLE tag moves the group to another transport
    /// (RFC 8843 §7.3.3), and Chrome then closes the DTLS association the call runs on; an offer
    /// whose sections were all rejected would have no BUNDLE group at all, which a max-bundle
    /// peer refuses. `version` is the `o=` session version and must grow with every
    /// offer on the same connection (RFC 8829 §5.2.2).
    public static func subscribeOffer(tracks: [SubscribeTrack], local: LocalTransport, version: UInt64) -> String {
        var offer = local.session(version: version, bundle: tracks.map(\.mid))
        for track in tracks {
            offer.media.append(subscribeSection(track, local: local))
        }
        return offer.serialize()
    }

    public static func subscribeSection(_ track: SubscribeTrack, local: LocalTransport) -> MediaSection {
        let codec = track.codec
        let mid = SDPAttribute("mid", track.mid)
        guard track.active else {
            var attributes = [mid, SDPAttribute("inactive")] + local.transportAttributes(setup: "actpass")
            attributes.append(SDPAttribute("rtcp-rsize"))
            attributes += codec.attributes
            return MediaSection(
                media: track.kind.rawValue, port: 9, proto: "UDP/TLS/RTP/SAVPF", formats: codec.formats,
                fields: [local.connectionField], attributes: attributes)
        }
        var attributes = [mid, SDPAttribute("sendonly"), SDPAttribute("msid", "\(track.streamId) \(track.trackId)")]
        attributes += local.transportAttributes(setup: "actpass")
        attributes.append(SDPAttribute("rtcp-rsize"))
        attributes += local.candidateAttributes
        attributes += codec.attributes
        for mapping in track.kind == .audio ? subscribeAudioExtensions : subscribeVideoExtensions {
            attributes.append(SDPAttribute("extmap", mapping.value))
        }
        var ssrcs = [track.ssrc]
        if let rtx = track.rtxSSRC, codec.rtxPayloadType != nil {
            ssrcs.append(rtx)
            attributes.append(SDPAttribute("ssrc-group", "FID \(track.ssrc) \(rtx)"))
        }
        for ssrc in ssrcs {
            attributes.append(SDPAttribute("ssrc", "\(ssrc) cname:parley-\(track.streamId)"))
            attributes.append(SDPAttribute("ssrc", "\(ssrc) msid:\(track.streamId) \(track.trackId)"))
        }
        return MediaSection(
            media: track.kind.rawValue, port: 9, proto: "UDP/TLS/RTP/SAVPF", formats: codec.formats,
            fields: [local.connectionField], attributes: attributes)
    }
}
