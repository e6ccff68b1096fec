/// The `a=candidate:` lines of Parley's SDP (RFC 8839 §5.1). As an ICE-lite server Parley has
/// only host candidates (RFC 8445 §5.1.1.1 for lite), all on the announced address: UDP on the
/// media port and, when enabled, passive ICE-TCP on the same port number (RFC 6544 §4.5).
public enum ICECandidateLines {
    /// RFC 8445 §5.1.2.1: priority = 2^24 * type preference + 2^8 * local preference + (256 - component).
    public static func priority(typePreference: UInt32 = 126, localPreference: UInt32, component: UInt32 = 1) -> UInt32 {
        (typePreference << 24) + (localPreference << 8) + (256 - component)
    }

    /// UDP host: the highest local preference, so peers that can use UDP do.
    public static let udpPriority = priority(localPreference: 65535)
    /// TCP passive host: RFC 6544 §4.2 local preference (2^13 * direction-pref(passive host = 4)
    /// + other-pref 8191), lower than UDP so TCP is only the fallback.
    public static let tcpPassivePriority = priority(localPreference: (4 << 13) + 8191)

    /// The candidate attribute lines, e.g.
    /// `a=candidate:1 1 udp 2130706431 203.0.113.5 7882 typ host` and
    /// `a=candidate:2 1 tcp 2124414975 203.0.113.5 7882 typ host tcptype passive`.
    public static func lines(announcedIP: String, port: UInt16, iceTCP: Bool) -> [String] {
        var out = ["a=candidate:1 1 udp \(udpPriority) \(announcedIP) \(port) typ host"]
        if iceTCP {
            out.append("a=candidate:2 1 tcp \(tcpPassivePriority) \(announcedIP) \(port) typ host tcptype passive")
        }
        return out
    }

    public static func lines(for configuration: MediaTransportConfiguration) -> [String] {
        lines(announcedIP: configuration.announcedIP, port: configuration.port, iceTCP: configuration.iceTCPEnabled)
    }
}
