import DTLS
import ICE

/// What the signaling side hands the UDP loop to start one synthetic transport: its socket,
/// its own ICE credentials, and Parley's (from the SDP it received).
struct SFUBenchTransportSpec: @unchecked Sendable {  // the socket moves to the loop thread and stays there
    enum Role: Sendable { case publish, subscribe }
    var role: Role
    var socket: MediaSocket
    var local: ICECredentials
    var remote: ICECredentials
    var serverFingerprint: DTLSFingerprint
    var server: TransportAddress
    /// For a publish transport: which publisher (0-based) and its SSRCs.
    var publisher: Int?
    var audioSSRC: UInt32 = 0
    var videoSSRC: UInt32 = 0
    /// A subscribe transport that floods NACKs (`--nack-storm`).
    var floodsNacks = false
}

/// One RTP stream arriving at a subscriber, counted by its (unencrypted) sequence numbers.
struct SFUBenchStream {
    var ssrc: UInt32
    var lastSequence: UInt16
    /// Extended highest sequence number (RFC 3550 §A.1), without the 2^16 limit.
    var highest: Int
    var received = 0
    /// Values at the start of the measurement window.
    var markHighest: Int
    var markReceived = 0

    /// `before`: the sequence number just before the first packet, so that a stream that starts
    /// inside the window counts from its first packet.
    init(ssrc: UInt32, before: UInt16) {
        self.ssrc = ssrc
        lastSequence = before
        highest = Int(before)
        markHighest = highest
    }

    @inline(__always)
    mutating func record(_ sequence: UInt16) {
        received &+= 1
        let delta = Int(Int16(bitPattern: sequence &- lastSequence))
        if delta > 0 {
            highest &+= delta
            lastSequence = sequence
        }
    }
}

/// A synthetic publisher's sending state: Opus every 20 ms, a VP8 frame every 1/30 s.
final class SFUBenchPublisher {
    let index: Int
    let audioSSRC: UInt32
    let videoSSRC: UInt32
    var active = false
    /// Index of its publish transport in the loop's list.
    var transport = 0
    var audioSequence = UInt16.random(in: 0...UInt16.max)
    var audioTimestamp = UInt32.random(in: 0...UInt32.max)
    var videoSequence = UInt16.random(in: 0...UInt16.max)
    var videoTimestamp = UInt32.random(in: 0...UInt32.max)
    var pictureId = UInt16.random(in: 0...0x7FFF)
    var transportSequence: UInt16 = 0
    var nextAudio: UInt64 = 0
    var nextVideo: UInt64 = 0
    var frames = 0
    /// The frame being sent: its packets left, their size, and when the next one is due (paced).
    var framePackets = 0
    var frameSent = 0
    var framePacketBytes = 0
    var frameIsKey = false
    var nextPacket: UInt64 = 0
    var keyframeRequested = false
    var keyframesSent = 0
    var keyframeRequests = 0
    var audioSent = 0
    var videoSent = 0

    init(index: Int, audioSSRC: UInt32, videoSSRC: UInt32) {
        self.index = index
        self.audioSSRC = audioSSRC
        self.videoSSRC = videoSSRC
    }

    var audioStream: UInt32 { UInt32(index * 2) }
    var videoStream: UInt32 { UInt32(index * 2 + 1) }
}

/// One synthetic peer connection on the bench side: ICE (controlling, aggressive nomination:
/// USE-CANDIDATE on every check, RFC 8445 §7.2.2, then a consent check every 2 s, RFC 7675),
/// a DTLS client handshake (RFC 5763 §5: Parley is the server), then SRTP.
/// Owned by the UDP loop thread.
final class SFUBenchTransport {
    let index: Int
    let role: SFUBenchTransportSpec.Role
    let socket: MediaSocket
    let local: ICECredentials
    let remote: ICECredentials
    let server: TransportAddress
    let dtls: DTLSSession
    let publisher: SFUBenchPublisher?
    var iceConnected = false
    var nextCheck: UInt64 = 0
    var checksSent = 0
    var dtlsStarted = false
    var dtlsFailed: DTLSError?
    var srtp: SRTPSession?
    var streams: [SFUBenchStream] = []
    var lastStream = 0
    var sinceSample = 0
    var rtcpReceived = 0
    let floodsNacks: Bool

    init(index: Int, spec: SFUBenchTransportSpec, context: DTLSContext, publisher: SFUBenchPublisher?) throws {
        self.index = index
        floodsNacks = spec.floodsNacks
        role = spec.role
        socket = spec.socket
        local = spec.local
        remote = spec.remote
        server = spec.server
        self.publisher = publisher
        dtls = try DTLSSession(context: context, role: .client, remoteFingerprints: [spec.serverFingerprint])
    }

    /// A Binding request with USE-CANDIDATE, signed with Parley's password (RFC 8445 §7.2.2,
    /// RFC 8489 §14.5). Built once per check (every 50 ms until answered, then every 2 s).
    func sendCheck(now: UInt64) {
        checksSent += 1
        nextCheck = now + (iceConnected ? 2_000_000_000 : 50_000_000)
        guard let request = try? STUNMessage(type: .bindingRequest, attributes: [
            .username("\(remote.ufrag):\(local.ufrag)"), .priority(0x6E00_01FF),
            .iceControlling(tieBreaker: UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15), .useCandidate,
        ]).serialized(integrityKey: remote.key, fingerprint: true) else { return }
        request.withUnsafeBytes { _ = socket.sendNow($0, to: server) }
    }

    /// Sends what the DTLS session asked for and takes its keys once connected.
    func apply(_ output: DTLSOutput) {
        for datagram in output.datagrams {
            datagram.withUnsafeBytes { _ = socket.sendNow($0, to: server) }
        }
        switch output.event {
        case .connected(let material)?:
            do {
                srtp = try SRTPSession(keyingMaterial: material, replayWindow: 1024)
            } catch {
                dtlsFailed = error
            }
        case .failed(let error)?:
            dtlsFailed = error
        case .closed?, nil:
            break
        }
    }

    /// The stream for `ssrc`, made on its first packet.
    @inline(__always)
    func stream(ssrc: UInt32, sequence: UInt16) -> Int {
        if lastStream < streams.count, streams[lastStream].ssrc == ssrc { return lastStream }
        for i in streams.indices where streams[i].ssrc == ssrc {
            lastStream = i
            return i
        }
        streams.append(SFUBenchStream(ssrc: ssrc, before: sequence &- 1))
        lastStream = streams.count - 1
        return lastStream
    }
}
