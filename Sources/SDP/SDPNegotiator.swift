/// Parley's offer/answer logic (RFC 3264, JSEP RFC 8829) for its two peer connections per
/// participant (docs/protocol.md "Calls"):
/// - publish: the client offers sendonly transceivers, Parley answers (`negotiatePublish`);
/// - subscribe: Parley offers one sendonly m-section per remote track (`subscribeOffer`) and
///   reads the client's answer (`parseSubscribeAnswer`).
///
/// Parley is ICE-lite (RFC 8445 §2.5) and always the DTLS server (RFC 5763 §5), bundles all media
/// on one transport (RFC 8843) and multiplexes RTCP (RFC 5761).
public enum SDPNegotiator {}
