import Synchronization

/// The media engine's counters as other threads read them (Prometheus, benchmarks). The media
/// thread counts in plain integers and publishes them here once per second, so the packet path
/// pays no atomic operation or lock per packet (the lock here is taken once a second).
public final class MediaCounters: Sendable {
    public enum Name: Int, CaseIterable, Sendable {
        case packetsReceived, bytesReceived, packetsForwarded, bytesForwarded, packetsDropped
        case nacksReceived, retransmissions, retransmissionsMissed, keyframeRequestsReceived, keyframeRequestsSent
        case srtpErrors, dtlsFailures, transportsClosedByConsent, layerSwitches

        public var metricName: String {
            switch self {
            case .packetsReceived: "parley_media_packets_received_total"
            case .bytesReceived: "parley_media_bytes_received_total"
            case .packetsForwarded: "parley_media_packets_forwarded_total"
            case .bytesForwarded: "parley_media_bytes_forwarded_total"
            case .packetsDropped: "parley_media_packets_dropped_total"
            case .nacksReceived: "parley_media_nacks_received_total"
            case .retransmissions: "parley_media_retransmissions_total"
            case .retransmissionsMissed: "parley_media_retransmissions_missed_total"
            case .keyframeRequestsReceived: "parley_media_keyframe_requests_received_total"
            case .keyframeRequestsSent: "parley_media_keyframe_requests_sent_total"
            case .srtpErrors: "parley_media_srtp_errors_total"
            case .dtlsFailures: "parley_media_dtls_failures_total"
            case .transportsClosedByConsent: "parley_media_ice_consent_failures_total"
            case .layerSwitches: "parley_media_simulcast_switches_total"
            }
        }
    }

    private let values = Mutex([Int](repeating: 0, count: Name.allCases.count))
    private let gauges = Mutex((calls: 0, participants: 0, publishedTracks: 0, subscribedTracks: 0))

    public init() {}

    public subscript(_ name: Name) -> Int { values.withLock { $0[name.rawValue] } }

    /// Calls, participants, published tracks and subscribed (forwarded) tracks on this instance.
    public var current: (calls: Int, participants: Int, publishedTracks: Int, subscribedTracks: Int) { gauges.withLock { $0 } }

    /// The counters and gauges in the Prometheus text format, appended to `/metrics`.
    public var prometheusText: String {
        let values = self.values.withLock { $0 }
        var text = ""
        for name in Name.allCases {
            text += "# TYPE \(name.metricName) counter\n\(name.metricName) \(values[name.rawValue])\n"
        }
        let now = current
        for (metric, value) in [("parley_calls", now.calls), ("parley_call_participants", now.participants),
                                ("parley_published_tracks", now.publishedTracks), ("parley_subscribed_tracks", now.subscribedTracks)] {
            text += "# TYPE \(metric) gauge\n\(metric) \(value)\n"
        }
        return text
    }

    func publish(_ local: LocalMediaCounters, calls: Int, participants: Int, publishedTracks: Int, subscribedTracks: Int) {
        values.withLock { $0 = local.values }
        gauges.withLock { $0 = (calls, participants, publishedTracks, subscribedTracks) }
    }
}

/// The media thread's own counters: plain integers bumped on the packet path.
struct LocalMediaCounters {
    var values = [Int](repeating: 0, count: MediaCounters.Name.allCases.count)

    @inline(__always) mutating func add(_ name: MediaCounters.Name, _ amount: Int = 1) {
        values[name.rawValue] &+= amount
    }
}
