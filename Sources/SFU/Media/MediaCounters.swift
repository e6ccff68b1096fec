import Metrics

/// The media engine's counters and gauges as the process reports them: through swift-metrics,
/// like every other metric of Parley (`/metrics`). The media thread counts in plain integers
/// (`LocalMediaCounters`) and hands the increase to the metrics backend once a second, so the
/// packet path pays no atomic operation or lock per packet.
///
/// Confined to the media thread, like the engine that owns it.
final class MediaCounters {
    enum Name: Int, CaseIterable {
        case packetsReceived, bytesReceived, packetsForwarded, bytesForwarded, packetsDropped, bytesDropped
        case nacksReceived, retransmissions, retransmissionsMissed, keyframeRequestsReceived, keyframeRequestsSent
        case srtpErrors, dtlsFailures, transportsClosedByConsent, layerSwitches
        /// NACKed numbers not answered: over the subscriber's budget, or answered less than a round trip ago.
        case retransmissionsDropped, retransmissionsRepeated
        /// Packets from an SSRC a transport had no room for (`PeerTransport.inboundSSRCLimit`).
        case ssrcsRefused
        /// Counted by the router, not the engine (`MediaRouterCounters.checkFailures`): the
        /// engine copies its total before each report.
        case iceCheckFailures

        var metricName: String {
            switch self {
            case .packetsReceived: "parley_media_packets_received_total"
            case .bytesReceived: "parley_media_bytes_received_total"
            case .packetsForwarded: "parley_media_packets_forwarded_total"
            case .bytesForwarded: "parley_media_bytes_forwarded_total"
            case .packetsDropped: "parley_media_packets_dropped_total"
            case .bytesDropped: "parley_media_bytes_dropped_total"
            case .nacksReceived: "parley_media_nacks_received_total"
            case .retransmissions: "parley_media_retransmissions_total"
            case .retransmissionsMissed: "parley_media_retransmissions_missed_total"
            case .keyframeRequestsReceived: "parley_media_keyframe_requests_received_total"
            case .keyframeRequestsSent: "parley_media_keyframe_requests_sent_total"
            case .srtpErrors: "parley_media_srtp_errors_total"
            case .dtlsFailures: "parley_media_dtls_failures_total"
            case .transportsClosedByConsent: "parley_media_ice_consent_failures_total"
            case .layerSwitches: "parley_media_simulcast_switches_total"
            case .retransmissionsDropped: "parley_media_retransmissions_dropped_total"
            case .retransmissionsRepeated: "parley_media_retransmissions_repeated_total"
            case .ssrcsRefused: "parley_media_ssrcs_refused_total"
            case .iceCheckFailures: "parley_ice_check_failures_total"
            }
        }
    }

    private let counters = Name.allCases.map { Counter(label: $0.metricName) }
    private var reported = [Int](repeating: 0, count: Name.allCases.count)
    private let calls = Gauge(label: "parley_calls")
    private let participants = Gauge(label: "parley_call_participants")
    private let publishedTracks = Gauge(label: "parley_published_tracks")
    private let subscribedTracks = Gauge(label: "parley_subscribed_tracks")
    private let liveObjects = MediaLiveObjects.zero.all.map {
        Gauge(label: "parley_media_live_objects", dimensions: [("kind", $0.kind)])
    }

    init() {}

    /// Reports what was counted since the last call, and the current gauges.
    func publish(_ local: LocalMediaCounters, calls: Int, participants: Int, publishedTracks: Int, subscribedTracks: Int,
                 live: MediaLiveObjects) {
        for (gauge, entry) in zip(liveObjects, live.all) { gauge.record(entry.count) }
        for name in Name.allCases {
            let increase = local.values[name.rawValue] - reported[name.rawValue]
            if increase > 0 { counters[name.rawValue].increment(by: increase) }
            reported[name.rawValue] = local.values[name.rawValue]
        }
        self.calls.record(calls)
        self.participants.record(participants)
        self.publishedTracks.record(publishedTracks)
        self.subscribedTracks.record(subscribedTracks)
    }
}

/// The media thread's own counters: plain integers bumped on the packet path. One instance is
/// shared by the engine and the parts it hands packets to (`PeerTransport`, `PublisherIngest`,
/// `RTPSender`, `RTCPResponder`), all on the media thread.
final class LocalMediaCounters {
    private(set) var values = [Int](repeating: 0, count: MediaCounters.Name.allCases.count)

    @inline(__always) func add(_ name: MediaCounters.Name, _ amount: Int = 1) {
        values[name.rawValue] &+= amount
    }

    /// One packet dropped, counted with its size: a packet count alone cannot tell a stream
    /// of padding from dropped keyframes. `bytes` is the datagram as it arrived (SRTP
    /// overhead included), or for a copy that could not be sent, its size before protection.
    @inline(__always) func drop(bytes: Int) {
        values[MediaCounters.Name.packetsDropped.rawValue] &+= 1
        values[MediaCounters.Name.bytesDropped.rawValue] &+= bytes
    }

    /// Takes the running total of a counter kept elsewhere on the media thread (the router's).
    func mirror(_ name: MediaCounters.Name, total: Int) {
        values[name.rawValue] = total
    }

    subscript(_ name: MediaCounters.Name) -> Int { values[name.rawValue] }
}
