/// How the media transport listens and what it announces. The lead's configuration code fills
/// it from the environment (README.md, "Configuration"); `init(environment:)` does the same
/// for `RTC_UDP_PORT`, `RTC_PUBLIC_IP` and `RTC_ICE_TCP`.
public struct MediaTransportConfiguration: Sendable, Equatable {
    /// `RTC_UDP_PORT`: the one UDP port for all media, also the ICE-TCP port number.
    public var port: UInt16 = 7882
    /// Where to bind. `"::"` (the default) is a dual-stack socket serving IPv4 and IPv6;
    /// `"0.0.0.0"`, `"127.0.0.1"` or a specific address also work.
    public var bindAddress: String = "::"
    /// `RTC_PUBLIC_IP`: the address announced in candidates (a cloud VM's public IP). Nil means
    /// the first non-loopback interface address (`NetworkInterfaces.firstNonLoopbackAddress`).
    public var publicIP: String?
    /// Passive ICE-TCP candidates (RFC 6544) on the same port number, for networks that block UDP.
    public var iceTCPEnabled: Bool = false
    /// RFC 7675 consent timeout.
    public var consentTimeout: Duration = ConsentTimer.defaultTimeout
    /// Datagrams per recvmmsg/sendmmsg call.
    public var batchSize: Int = 32
    /// Socket buffer sizes asked of the kernel (capped by net.core.rmem_max / wmem_max).
    public var socketBufferBytes: Int = 4 << 20
    /// Open ICE-TCP connections allowed; unauthenticated ones are closed after `tcpAuthTimeout`.
    public var maxTCPConnections: Int = 1024
    public var tcpAuthTimeout: Duration = .seconds(10)

    public init() {}

    /// Reads `RTC_UDP_PORT` (default 7882), `RTC_PUBLIC_IP` (default: first non-loopback
    /// address) and `RTC_ICE_TCP` (`1`/`true`/`on` enables ICE-TCP; default off).
    public init(environment: [String: String]) {
        self.init()
        if let p = environment["RTC_UDP_PORT"].flatMap(UInt16.init) { port = p }
        if let ip = environment["RTC_PUBLIC_IP"], !ip.isEmpty { publicIP = ip }
        if let tcp = environment["RTC_ICE_TCP"]?.lowercased() { iceTCPEnabled = ["1", "true", "on", "yes"].contains(tcp) }
    }

    /// The address to announce: `publicIP`, else the first non-loopback address, else 127.0.0.1.
    public var announcedIP: String {
        publicIP ?? NetworkInterfaces.firstNonLoopbackAddress() ?? "127.0.0.1"
    }
}
