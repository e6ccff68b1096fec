import DTLS
import ICE
import RTCP
import Testing
@testable import SFU

/// One peer connection without the engine: DTLS to SRTP, unprotecting with the SSRC bound,
/// protecting and sending RTCP, and closing.
@Suite struct PeerTransportTests {
    @Test func aHandshakeWithTheRightCertificateGivesKeysBothWays() throws {
        let lone = try LoneTransport(role: .subscribe)
        let peer = try lone.connect()
        #expect(lone.changes == ["connected"])
        #expect(lone.transport.isConnected && lone.transport.path == peer.path)
        // RTCP Parley sends reaches the peer and unprotects there.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 16)
        defer { buffer.deallocate() }
        let length = PictureLossIndication.write(into: buffer, senderSSRC: 9, mediaSSRC: 10)
        let written = Array(UnsafeRawBufferPointer(rebasing: buffer[0..<length]))
        #expect(lone.transport.sendRTCP(buffer, length: length, router: lone.router))
        let sent = lone.sink.take(to: peer.path)
        #expect(sent.count == 1)
        #expect(try peer.unprotect(sent[0], rtcp: true) == written)
    }

    @Test func aPeerWithAnotherCertificateIsRefused() throws {
        let lone = try LoneTransport(role: .publish)
        #expect(throws: (any Error).self) { _ = try lone.connect(certificate: try DTLSCertificate.generate()) }
        #expect(!lone.transport.isConnected)
        #expect(lone.changes.contains { $0.hasPrefix("failed: DTLS failed") })
    }

    @Test func nothingIsUnprotectedOrSentWithoutKeys() throws {
        let lone = try LoneTransport(role: .publish)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 16)
        defer { buffer.deallocate() }
        let packet = rtpPacket(payloadType: 96, sequence: 1, timestamp: 0, ssrc: 5, payload: [1, 2, 3])
        #expect(packet.withUnsafeBytes { lone.transport.unprotect($0, into: buffer, rtcp: false) } == nil)
        #expect(lone.counters[.packetsDropped] == 1 && lone.counters[.bytesDropped] == packet.count)
        #expect(!lone.transport.sendRTCP(buffer, length: 12, router: lone.router))
        #expect(lone.sink.sent.isEmpty)
    }

    @Test func aPeerCyclingSSRCsIsHeldToItsLimitOfSRTPStreams() throws {
        let lone = try LoneTransport(role: .subscribe)
        let peer = try lone.connect()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 16)
        defer { buffer.deallocate() }
        // A subscriber with no down-tracks may make 4 streams (RTCP senders); the rest are refused unread.
        var accepted = 0
        for ssrc in UInt32(100)..<UInt32(110) {
            let rr = [0x80, 201, 0, 1] + withUnsafeBytes(of: ssrc.bigEndian, Array.init)
            let protected = try peer.protect(rr, rtcp: true)
            if protected.withUnsafeBytes({ lone.transport.unprotect($0, into: buffer, rtcp: true) }) != nil { accepted += 1 }
        }
        #expect(accepted == lone.transport.inboundSSRCLimit && accepted == 4)
        #expect(lone.counters[.ssrcsRefused] == 6)
        #expect(lone.live.counts.srtpStreams == 4)
        // A tampered packet from a known SSRC fails authentication and is counted.
        var tampered = try peer.protect([0x80, 201, 0, 1, 0, 0, 0, 100], rtcp: true)
        tampered[tampered.count - 1] ^= 1
        #expect(tampered.withUnsafeBytes { lone.transport.unprotect($0, into: buffer, rtcp: true) } == nil)
        #expect(lone.counters[.srtpErrors] == 1)
    }

    @Test func closingUnbindsAndLeavesTheRouter() throws {
        let lone = try LoneTransport(role: .publish)
        let peer = try lone.connect()
        lone.transport.bind(42, to: SSRCBinding(track: PublisherIngestTests.track(on: lone.transport), layer: 0, isRTX: false))
        #expect(lone.live.counts.ssrcBindings == 1)
        lone.transport.close(router: lone.router)
        lone.transport.close(router: lone.router)  // once only
        #expect(lone.transport.closed && lone.live.counts.ssrcBindings == 0)
        let iceID = try #require(lone.transport.iceID)
        #expect(lone.router.selectedPath(of: iceID) == nil)
        // What the peer sends now reaches nobody.
        lone.deliver(try peer.protect(rtpPacket(payloadType: 96, sequence: 1, timestamp: 0, ssrc: 42, payload: [1]), rtcp: false),
                     from: peer.path)
        #expect(lone.media.isEmpty)
    }
}
