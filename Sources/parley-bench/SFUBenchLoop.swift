import DTLS
import Foundation
import ICE
import Synchronization

#if canImport(Glibc)
import Glibc
import ByteOrder
#endif

/// What the UDP loop has counted, taken on request between measurement windows.
struct SFUBenchSnapshot: Sendable {
    var transports = 0
    var iceConnected = 0
    var srtpReady = 0
    var dtlsFailures: [String] = []
    /// Subscriber streams that have received at least one packet.
    var streams = 0
    var audioSent = 0
    var videoSent = 0
    var keyframesSent = 0
    var keyframeRequests = 0
    var rtpReceived = 0
    var rtcpReceived = 0
    var lateSchedules = 0
    var nacksSent = 0
    /// Over the window since the last `markWindow`: packets the sequence numbers say should
    /// have arrived, and those that did.
    var windowExpected = 0
    var windowReceived = 0
    /// Send-to-kernel-receive and send-to-read latencies of the verified sample, in microseconds.
    var kernelLatency: [UInt32] = []
    var readLatency: [UInt32] = []
    var verifyFailures = 0
    var packetsSent: Int { audioSent + videoSent }
}

/// The benchmark's media thread: every synthetic transport's non-blocking UDP socket in one
/// poll set (Swift's Glibc module has no epoll), publishers paced by CLOCK_MONOTONIC, ICE checks and DTLS timers. Nothing is
/// allocated per media packet: packets are written into one send buffer and protected in place,
/// received ones are counted from their RTP header (which SRTP leaves in the clear, RFC 3711
/// §3.1), and one in `verifyEvery` is copied, unprotected and its stamp read.
///
/// Other threads talk to it only through `submit` (a locked queue the thread drains when the
/// `pending` flag says there is something) and `snapshot()`.
final class SFUBenchLoop: @unchecked Sendable {
    enum Command {
        case add(SFUBenchTransportSpec)
        case activatePublishers(Int)
        case markWindow
        case snapshot(CheckedContinuation<SFUBenchSnapshot, Never>)
        case stop
    }

    struct Settings: Sendable {
        var videoBitrate: Int
        var keyframeInterval: Int  // frames
        var transportCC: Bool
        var verifyEvery: Int
        /// Video is paced at this multiple of its bitrate, like WebRTC's pacer (2.5 by default);
        /// 0 sends each frame as one burst.
        var pacing: Double
    }

    private let settings: Settings
    private let context: DTLSContext
    private let commands = Mutex<[Command]>([])
    private let pending = Atomic<Bool>(false)
    /// One entry per transport, in the same order as `transports`.
    private var pollSet: [pollfd] = []

    // Owned by the loop thread from here on.
    private var transports: [SFUBenchTransport] = []
    private var publishers: [SFUBenchPublisher] = []
    private var running = true
    private let sendBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 16)
    private let verifyBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 16)
    private let latencyCapacity = 4_000_000
    private let kernelSamples: UnsafeMutablePointer<UInt32>
    private let readSamples: UnsafeMutablePointer<UInt32>
    private var kernelCount = 0
    private var readCount = 0
    private var verifyFailures = 0
    private var rtpReceived = 0
    private var lateSchedules = 0
    private var nacksSent = 0
    private var nextTimers: UInt64 = 0
    private let frameNanos: UInt64 = 1_000_000_000 / 30
    private let audioNanos: UInt64 = 20_000_000

    init(settings: Settings, context: DTLSContext) throws {
        self.settings = settings
        self.context = context
        kernelSamples = .allocate(capacity: latencyCapacity)
        readSamples = .allocate(capacity: latencyCapacity)
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "sfu-bench-udp"
        thread.start()
    }

    func submit(_ command: Command) {
        commands.withLock { $0.append(command) }
        pending.store(true, ordering: .releasing)
    }

    func snapshot() async -> SFUBenchSnapshot {
        await withCheckedContinuation { submit(.snapshot($0)) }
    }

    // MARK: the loop

    private func run() {
        while running {
            if pending.load(ordering: .acquiring) { drainCommands() }
            let now = SFUBenchClock.monotonic()
            var nextDue = sendDue(now: now)
            if now >= nextTimers {
                runTimers(now: now)
                nextTimers = now + 5_000_000
            }
            nextDue = min(nextDue, nextTimers)
            let after = SFUBenchClock.monotonic()
            let timeout = nextDue > after ? Int32(min(5, max(1, (nextDue - after) / 1_000_000))) : 0
            let n = pollSet.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), timeout) }
            guard n > 0 else { continue }
            var ready = Int(n)
            for index in pollSet.indices where pollSet[index].revents != 0 {
                pollSet[index].revents = 0
                receive(on: transports[index])
                ready -= 1
                if ready == 0 { break }
            }
        }
        for transport in transports { _ = transport.dtls.close() }
    }

    private func drainCommands() {
        pending.store(false, ordering: .releasing)
        let queued = commands.withLock { list -> [Command] in
            let taken = list
            list.removeAll()
            return taken
        }
        for command in queued {
            switch command {
            case .add(let spec): add(spec)
            case .activatePublishers(let count):
                let now = SFUBenchClock.monotonic()
                for publisher in publishers where publisher.index < count && !publisher.active {
                    publisher.active = true
                    // Spread the publishers' phases as real ones would be.
                    publisher.nextAudio = now + UInt64.random(in: 0..<audioNanos)
                    publisher.nextVideo = now + UInt64.random(in: 0..<frameNanos)
                    publisher.frames = 0
                }
                for publisher in publishers where publisher.index >= count { publisher.active = false }
            case .markWindow:
                kernelCount = 0
                readCount = 0
                verifyFailures = 0
                for transport in transports {
                    for i in transport.streams.indices {
                        transport.streams[i].markHighest = transport.streams[i].highest
                        transport.streams[i].markReceived = transport.streams[i].received
                    }
                }
            case .snapshot(let continuation):
                continuation.resume(returning: takeSnapshot())
            case .stop:
                running = false
            }
        }
    }

    private func add(_ spec: SFUBenchTransportSpec) {
        var publisher: SFUBenchPublisher?
        if let index = spec.publisher {
            let made = SFUBenchPublisher(index: index, audioSSRC: spec.audioSSRC, videoSSRC: spec.videoSSRC)
            made.transport = transports.count
            publishers.append(made)
            publisher = made
        }
        guard let transport = try? SFUBenchTransport(index: transports.count, spec: spec, context: context, publisher: publisher) else {
            return
        }
        transports.append(transport)
        pollSet.append(pollfd(fd: spec.socket.fd, events: Int16(POLLIN), revents: 0))
        // The first SIOCGSTAMPNS turns on receive timestamps for the socket (it answers ENOENT).
        var stamp = timespec()
        _ = ioctl(spec.socket.fd, UInt(0x8907), &stamp)
        transport.sendCheck(now: SFUBenchClock.monotonic())
    }

    private func takeSnapshot() -> SFUBenchSnapshot {
        var s = SFUBenchSnapshot()
        s.transports = transports.count
        for transport in transports {
            if transport.iceConnected { s.iceConnected += 1 }
            if transport.srtp != nil { s.srtpReady += 1 }
            if let failure = transport.dtlsFailed { s.dtlsFailures.append("\(failure)") }
            s.streams += transport.streams.count
            s.rtcpReceived += transport.rtcpReceived
            for stream in transport.streams {
                s.windowExpected += max(0, stream.highest - stream.markHighest)
                s.windowReceived += stream.received - stream.markReceived
            }
        }
        for publisher in publishers {
            s.audioSent += publisher.audioSent
            s.videoSent += publisher.videoSent
            s.keyframesSent += publisher.keyframesSent
            s.keyframeRequests += publisher.keyframeRequests
        }
        s.rtpReceived = rtpReceived
        s.lateSchedules = lateSchedules
        s.nacksSent = nacksSent
        s.kernelLatency = Array(UnsafeBufferPointer(start: kernelSamples, count: kernelCount))
        s.readLatency = Array(UnsafeBufferPointer(start: readSamples, count: readCount))
        s.verifyFailures = verifyFailures
        return s
    }

    // MARK: timers

    /// ICE checks until answered, consent checks every 2 s after, DTLS retransmissions.
    private func runTimers(now: UInt64) {
        var instant: ContinuousClock.Instant?
        for transport in transports {
            if now >= transport.nextCheck { transport.sendCheck(now: now) }
            if transport.floodsNacks, let srtp = transport.srtp { floodNacks(transport, srtp: srtp) }
            if transport.dtlsStarted, let deadline = transport.dtls.timerDeadline {
                let clock = instant ?? ContinuousClock.now
                instant = clock
                if clock >= deadline { transport.apply(transport.dtls.handleTimeout(now: clock)) }
            }
        }
    }

    /// `--nack-storm`: per stream received, a Generic NACK (RFC 4585 §6.2.1) naming the last
    /// 544 sequence numbers (32 entries, all 16 BLP bits set) four times over, 128 entries.
    private func floodNacks(_ transport: SFUBenchTransport, srtp: SRTPSession) {
        guard let b = sendBuffer.baseAddress else { return }
        let entries = 128
        for stream in transport.streams {
            let words = 2 + entries
            b.storeBytes(of: UInt32(0x8100_0000 | 205 << 16 | words).bigEndian, toByteOffset: 0, as: UInt32.self)
            b.storeBytes(of: UInt32(1).bigEndian, toByteOffset: 4, as: UInt32.self)
            b.storeBytes(of: stream.ssrc.bigEndian, toByteOffset: 8, as: UInt32.self)
            for entry in 0..<entries {
                let pid = stream.lastSequence &- 543 &+ UInt16(17 * (entry % 32))
                b.storeBytes(of: (UInt32(pid) << 16 | 0xFFFF).bigEndian, toByteOffset: 12 + 4 * entry, as: UInt32.self)
            }
            var length = 12 + 4 * entries
            guard (try? srtp.protectRTCP(sendBuffer, length: &length)) != nil else { continue }
            if transport.socket.sendNow(UnsafeRawBufferPointer(start: b, count: length), to: transport.server) { nacksSent += 1 }
        }
    }

    // MARK: sending

    /// Sends every packet that is due; returns when the next one is.
    private func sendDue(now: UInt64) -> UInt64 {
        var next = now + 5_000_000
        for publisher in publishers where publisher.active {
            guard publisher.transport < transports.count, let srtp = transports[publisher.transport].srtp else { continue }
            let transport = transports[publisher.transport]
            if now >= publisher.nextAudio {
                sendAudio(publisher, transport: transport, srtp: srtp)
                publisher.nextAudio += audioNanos
                if publisher.nextAudio + 100_000_000 < now {  // stalled: skip instead of bursting
                    publisher.nextAudio = now + audioNanos
                    lateSchedules += 1
                }
            }
            if now >= publisher.nextVideo {
                // A frame still being paced out when the next is due goes out at once.
                while publisher.frameSent < publisher.framePackets { sendPacket(publisher, transport: transport, srtp: srtp) }
                startFrame(publisher)
                publisher.nextPacket = now
                publisher.nextVideo += frameNanos
                if publisher.nextVideo + 100_000_000 < now {
                    publisher.nextVideo = now + frameNanos
                    lateSchedules += 1
                }
            }
            while publisher.frameSent < publisher.framePackets, now >= publisher.nextPacket {
                sendPacket(publisher, transport: transport, srtp: srtp)
                publisher.nextPacket += packetInterval(bytes: publisher.framePacketBytes)
            }
            if publisher.frameSent < publisher.framePackets { next = min(next, publisher.nextPacket) }
            next = min(next, publisher.nextAudio, publisher.nextVideo)
        }
        return next
    }

    private func sendAudio(_ p: SFUBenchPublisher, transport: SFUBenchTransport, srtp: SRTPSession) {
        guard let b = sendBuffer.baseAddress else { return }
        p.audioSequence &+= 1
        p.audioTimestamp &+= 960
        p.transportSequence &+= 1
        var o = SFUBenchPackets.writeHeader(
            b, marker: false, payloadType: SFUBenchPackets.opusPayloadType, sequence: p.audioSequence, timestamp: p.audioTimestamp,
            ssrc: p.audioSSRC, audioLevel: 0x80 | 30, transportSequence: settings.transportCC ? p.transportSequence : nil)
        b.storeBytes(of: 0x78, toByteOffset: o, as: UInt8.self)  // Opus TOC: CELT FB 20 ms
        SFUBenchPackets.writeStamp(b, at: o + 1, stream: p.audioStream, sentNanos: SFUBenchClock.realtime())
        o += 100
        var length = o
        guard (try? srtp.protectRTP(sendBuffer, length: &length)) != nil else { return }
        if transport.socket.sendNow(UnsafeRawBufferPointer(start: b, count: length), to: transport.server) { p.audioSent += 1 }
    }

    /// Starts a VP8 frame: a keyframe every `keyframeInterval` frames or after a PLI, about three
    /// times an inter frame; the frame's bytes split evenly over packets of at most 1100.
    private func startFrame(_ p: SFUBenchPublisher) {
        let keyframe = p.frames % settings.keyframeInterval == 0 || p.keyframeRequested
        if keyframe {
            p.keyframeRequested = false
            p.keyframesSent += 1
        }
        p.frames += 1
        let frameBytes = settings.videoBitrate / 8 / 30 * (keyframe ? 3 : 1)
        p.framePackets = max(1, (frameBytes + SFUBenchPackets.maxVideoPayload - 1) / SFUBenchPackets.maxVideoPayload)
        p.framePacketBytes = frameBytes / p.framePackets
        p.frameSent = 0
        p.frameIsKey = keyframe
        p.videoTimestamp &+= 3000
        p.pictureId = (p.pictureId &+ 1) & 0x7FFF
    }

    /// Nanoseconds between paced video packets of `bytes`.
    private func packetInterval(bytes: Int) -> UInt64 {
        guard settings.pacing > 0 else { return 0 }
        return UInt64(Double(bytes * 8) / (settings.pacing * Double(settings.videoBitrate)) * 1e9)
    }

    /// The frame's next packet: the VP8 descriptor (S on the first), the VP8 payload header on
    /// the first, the stamp; the marker bit on the last (RFC 7741 §4.1).
    private func sendPacket(_ p: SFUBenchPublisher, transport: SFUBenchTransport, srtp: SRTPSession) {
        guard let b = sendBuffer.baseAddress else { return }
        let i = p.frameSent
        p.frameSent += 1
        p.videoSequence &+= 1
        p.transportSequence &+= 1
        let header = SFUBenchPackets.writeHeader(
            b, marker: i == p.framePackets - 1, payloadType: SFUBenchPackets.vp8PayloadType, sequence: p.videoSequence,
            timestamp: p.videoTimestamp, ssrc: p.videoSSRC, audioLevel: nil,
            transportSequence: settings.transportCC ? p.transportSequence : nil)
        var o = SFUBenchPackets.writeVP8Descriptor(b, at: header, start: i == 0, pictureId: p.pictureId)
        if i == 0 { o = SFUBenchPackets.writeVP8Header(b, at: o, keyframe: p.frameIsKey) }
        SFUBenchPackets.writeStamp(b, at: o, stream: p.videoStream, sentNanos: SFUBenchClock.realtime())
        var length = header + max(p.framePacketBytes, o - header + SFUBenchPackets.stampLength)
        guard (try? srtp.protectRTP(sendBuffer, length: &length)) != nil else { return }
        if transport.socket.sendNow(UnsafeRawBufferPointer(start: b, count: length), to: transport.server) { p.videoSent += 1 }
    }

    // MARK: receiving

    private func receive(on transport: SFUBenchTransport) {
        for _ in 0..<8 {
            var lastRTP: UnsafeRawBufferPointer?
            let n = transport.socket.receiveBatch { packet, _ in
                guard let first = packet.first else { return }
                switch first {
                case 0...3:
                    // A Binding success response (RFC 8489 §5: class bits in the type 0x0101).
                    if packet.count >= 20, packet[0] == 0x01, packet[1] == 0x01, !transport.iceConnected {
                        transport.iceConnected = true
                        transport.nextCheck = SFUBenchClock.monotonic() + 2_000_000_000
                        if !transport.dtlsStarted {
                            transport.dtlsStarted = true
                            transport.apply(transport.dtls.start(now: .now))
                        }
                    }
                case 20...63:
                    transport.apply(transport.dtls.receive(datagram: packet, now: .now))
                case 128...191:
                    guard packet.count >= 12 else { return }
                    let type = packet[1] & 0x7F
                    if (64...95).contains(type) {
                        receiveRTCP(packet, on: transport)
                        return
                    }
                    let sequence = UInt16(packet[2]) << 8 | UInt16(packet[3])
                    let ssrc = SFUBenchPackets.readBE32(packet, 8)
                    let index = transport.stream(ssrc: ssrc, sequence: sequence)
                    transport.streams[index].record(sequence)
                    rtpReceived &+= 1
                    transport.sinceSample &+= 1
                    lastRTP = packet
                default:
                    return
                }
            }
            // A NACK flooder's retransmissions carry their first send's stamp (seconds old by
            // design), so its packets are counted for loss but not sampled for latency.
            if let lastRTP, !transport.floodsNacks, transport.sinceSample >= settings.verifyEvery {
                transport.sinceSample = 0
                verify(lastRTP, on: transport)
            }
            if n < transport.socket.batchSize { return }
        }
    }

    /// Unprotects a copy of one received packet, reads its stamp, and records its latency to
    /// the kernel's receive timestamp of the socket's last datagram (which is this one: it is
    /// the last of the batch) and to now.
    private func verify(_ packet: UnsafeRawBufferPointer, on transport: SFUBenchTransport) {
        let readNanos = SFUBenchClock.realtime()
        var stamp = timespec()
        let kernelNanos = ioctl(transport.socket.fd, UInt(0x8907), &stamp) == 0
            ? UInt64(stamp.tv_sec) &* 1_000_000_000 &+ UInt64(stamp.tv_nsec) : 0
        guard let srtp = transport.srtp, packet.count <= verifyBuffer.count, let base = packet.baseAddress,
              let target = verifyBuffer.baseAddress else { return }
        target.copyMemory(from: base, byteCount: packet.count)
        var length = packet.count
        do {
            try srtp.unprotectRTP(verifyBuffer, length: &length)
        } catch {
            verifyFailures += 1
            return
        }
        guard let (_, sent) = SFUBenchPackets.readStamp(UnsafeRawBufferPointer(start: target, count: length)) else {
            verifyFailures += 1
            return
        }
        if readCount < latencyCapacity {
            readSamples[readCount] = UInt32(clamping: (readNanos &- min(readNanos, sent)) / 1000)
            readCount += 1
        }
        if kernelNanos != 0, kernelCount < latencyCapacity {
            kernelSamples[kernelCount] = UInt32(clamping: (kernelNanos &- min(kernelNanos, sent)) / 1000)
            kernelCount += 1
        }
    }

    /// RTCP to a publisher: a PLI or FIR asks for a keyframe on the next frame.
    private func receiveRTCP(_ packet: UnsafeRawBufferPointer, on transport: SFUBenchTransport) {
        transport.rtcpReceived += 1
        guard let publisher = transport.publisher, let srtp = transport.srtp, packet.count <= verifyBuffer.count,
              let base = packet.baseAddress, let target = verifyBuffer.baseAddress else { return }
        target.copyMemory(from: base, byteCount: packet.count)
        var length = packet.count
        guard (try? srtp.unprotectRTCP(verifyBuffer, length: &length)) != nil else { return }
        if SFUBenchPackets.hasKeyframeRequest(UnsafeRawBufferPointer(start: target, count: length)) {
            publisher.keyframeRequested = true
            publisher.keyframeRequests += 1
        }
    }
}
