// The SFU (rooms, tracks, SDP, RTP/RTCP forwarding) is not built yet; this module holds the
// place DESIGN.md gives it, between Signaling and the ICE and DTLS transports.
