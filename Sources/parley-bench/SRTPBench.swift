import ArgumentParser
import DTLS
#if canImport(Glibc)
import Glibc
#endif

/// `parley-bench srtp`: SRTP protect and unprotect of one RTP packet size, per profile, on one
/// core. The per-core SRTP ceiling the SFU's forwarding benchmark is held against.
struct BenchSRTP: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "srtp",
        abstract: "Measure SRTP protect/unprotect of a 1200-byte RTP packet with each profile.")

    @Option(help: "Packets per measurement.")
    var count = 1_000_000

    @Option(help: "RTP packet size in bytes before protection (12-byte header included).")
    var size = 1200

    @Option(help: "Profiles to measure: gcm, cm (default both).")
    var profile: [String] = ["gcm", "cm"]

    func validate() throws {
        guard count >= 1000 else { throw ValidationError("--count must be at least 1000") }
        guard (12...1400).contains(size) else { throw ValidationError("--size must be 12...1400") }
        for name in profile where Self.profiles[name] == nil {
            throw ValidationError("unknown profile \(name); use gcm or cm")
        }
    }

    static let profiles: [String: SRTPProfile] = ["gcm": .aeadAes128Gcm, "cm": .aes128CmHmacSha1_80]

    func run() throws {
        print("libsrtp: \(SRTPLibrary.buildDescription)")
        print("packet: \(size) bytes RTP, \(count) packets per measurement, one thread")
        print("")
        print("| profile | operation | pkts/s (CPU time) | ns/op (CPU) | pkts/s (wall) |")
        print("| --- | --- | --- | --- | --- |")
        for name in profile {
            let profile = Self.profiles[name]!
            for result in try measure(profile) {
                print("| \(profile) | \(result.operation) | \(format(result.perSecondCPU)) | \(Int(result.nanosecondsCPU.rounded())) | \(format(result.perSecondWall)) |")
            }
        }
    }

    struct Result {
        var operation: String
        var nanosecondsCPU: Double
        var nanosecondsWall: Double
        var perSecondCPU: Double { 1e9 / nanosecondsCPU }
        var perSecondWall: Double { 1e9 / nanosecondsWall }
    }

    func measure(_ profile: SRTPProfile) throws -> [Result] {
        let key = (0..<profile.masterKeyLength).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 1) }
        let salt = (0..<profile.masterSaltLength).map { UInt8(truncatingIfNeeded: $0 &* 11 &+ 5) }
        let capacity = size + profile.rtcpOverhead + 16
        let template = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 64)
        defer { template.deallocate() }
        template.initializeMemory(as: UInt8.self, repeating: 0xA5)
        let header: [UInt8] = [0x80, 96, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78]
        for (index, byte) in header.enumerated() { template[index] = byte }

        func setSequence(_ buffer: UnsafeMutableRawBufferPointer, _ index: Int) {
            buffer[2] = UInt8(truncatingIfNeeded: index >> 8)
            buffer[3] = UInt8(truncatingIfNeeded: index)
            buffer[4] = UInt8(truncatingIfNeeded: index >> 16)  // timestamp moves too
        }

        // protect: in place on one reused buffer, a new sequence number each time (the buffer
        // holds the last ciphertext as plaintext: the cost is the same).
        let sender = try SRTPContext(profile: profile, masterKey: key, masterSalt: salt, direction: .outbound)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 64)
        defer { buffer.deallocate() }
        buffer.copyMemory(from: UnsafeRawBufferPointer(template))
        var length = size
        for index in 0..<10_000 {  // warm-up
            setSequence(buffer, index)
            length = size
            try sender.protectRTP(buffer, length: &length)
        }
        let protectTime = try Stopwatch.time {
            for index in 10_000..<(10_000 + count) {
                setSequence(buffer, index)
                length = size
                try sender.protectRTP(buffer, length: &length)
            }
        }

        // unprotect: batches of packets protected outside the clock (each index once: replay
        // protection would refuse repeats), unprotected in place inside it.
        let batch = 1024
        let protectedLength = size + profile.rtpOverhead
        let stride = (capacity + 63) & ~63
        let packets = UnsafeMutableRawBufferPointer.allocate(byteCount: stride * batch, alignment: 64)
        defer { packets.deallocate() }
        let outbound = try SRTPContext(profile: profile, masterKey: key, masterSalt: salt, direction: .outbound)
        let receiver = try SRTPContext(profile: profile, masterKey: key, masterSalt: salt, direction: .inbound)
        var unprotectTime = Stopwatch.Elapsed()
        var next = 0
        let batches = (count + batch - 1) / batch + 10  // 10 warm-up batches
        for batchIndex in 0..<batches {
            for slot in 0..<batch {
                let packet = UnsafeMutableRawBufferPointer(rebasing: packets[(slot * stride)..<(slot * stride + capacity)])
                packet.copyMemory(from: UnsafeRawBufferPointer(template))
                setSequence(packet, next)
                next += 1
                var packetLength = size
                try outbound.protectRTP(packet, length: &packetLength)
            }
            let elapsed = try Stopwatch.time {
                for slot in 0..<batch {
                    let packet = UnsafeMutableRawBufferPointer(rebasing: packets[(slot * stride)..<(slot * stride + capacity)])
                    var packetLength = protectedLength
                    try receiver.unprotectRTP(packet, length: &packetLength)
                }
            }
            if batchIndex >= 10 { unprotectTime.add(elapsed) }
        }
        let unprotectCount = Double((batches - 10) * batch)

        let protectResult = Result(operation: "protect", nanosecondsCPU: protectTime.cpu / Double(count),
                                   nanosecondsWall: protectTime.wall / Double(count))
        let unprotectResult = Result(operation: "unprotect", nanosecondsCPU: unprotectTime.cpu / unprotectCount,
                                     nanosecondsWall: unprotectTime.wall / unprotectCount)
        let pair = Result(operation: "protect + unprotect",
                          nanosecondsCPU: protectResult.nanosecondsCPU + unprotectResult.nanosecondsCPU,
                          nanosecondsWall: protectResult.nanosecondsWall + unprotectResult.nanosecondsWall)
        return [protectResult, unprotectResult, pair]
    }

    func format(_ perSecond: Double) -> String {
        perSecond >= 1e6 ? "\((perSecond / 1e4).rounded() / 100) M" : "\(Int((perSecond / 1e3).rounded())) k"
    }
}

extension BenchSRTP {
    /// Wall-clock and this thread's CPU time around a block, in nanoseconds.
    enum Stopwatch {
        struct Elapsed {
            var wall = 0.0
            var cpu = 0.0
            mutating func add(_ other: Elapsed) {
                wall += other.wall
                cpu += other.cpu
            }
        }

        static func time(_ body: () throws -> Void) rethrows -> Elapsed {
            let wall0 = now(CLOCK_MONOTONIC)
            let cpu0 = now(CLOCK_THREAD_CPUTIME_ID)
            try body()
            let cpu1 = now(CLOCK_THREAD_CPUTIME_ID)
            let wall1 = now(CLOCK_MONOTONIC)
            return Elapsed(wall: wall1 - wall0, cpu: cpu1 - cpu0)
        }

        private static func now(_ clock: clockid_t) -> Double {
            var spec = timespec()
            clock_gettime(clock, &spec)
            return Double(spec.tv_sec) * 1e9 + Double(spec.tv_nsec)
        }
    }
}
