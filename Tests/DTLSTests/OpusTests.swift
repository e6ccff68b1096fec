import COpus
import COpusShims
import Foundation
import Testing

@Suite("libopus through COpus and the ctl shims")
struct OpusTests {
    @Test("a 20 ms 48 kHz tone encodes at the set bitrate and decodes back to a tone")
    func encodeDecodeTone() throws {
        let sampleRate: Int32 = 48_000
        let frameSize = 960  // 20 ms
        var error: Int32 = 0
        let encoder = try #require(opus_encoder_create(sampleRate, 1, OPUS_APPLICATION_VOIP, &error))
        defer { opus_encoder_destroy(encoder) }
        #expect(error == OPUS_OK)
        #expect(parley_opus_set_bitrate(encoder, 32_000) == OPUS_OK)
        var bitrate: Int32 = 0
        #expect(parley_opus_get_bitrate(encoder, &bitrate) == OPUS_OK)
        #expect(bitrate == 32_000)
        #expect(parley_opus_set_complexity(encoder, 5) == OPUS_OK)
        #expect(parley_opus_set_inband_fec(encoder, 1) == OPUS_OK)

        let decoder = try #require(opus_decoder_create(sampleRate, 1, &error))
        defer { opus_decoder_destroy(decoder) }

        // 440 Hz at half scale; a few frames so the codec's look-ahead settles.
        var phase = 0.0
        var packet = [UInt8](repeating: 0, count: 1500)
        var decoded = [Int16](repeating: 0, count: frameSize)
        var decodedRMS = 0.0
        var packetSizes: [Int32] = []
        for _ in 0..<10 {
            let pcm = (0..<frameSize).map { _ -> Int16 in
                defer { phase += 2 * Double.pi * 440 / Double(sampleRate) }
                return Int16(16_384 * sin(phase))
            }
            let size = opus_encode(encoder, pcm, Int32(frameSize), &packet, Int32(packet.count))
            #expect(size > 0)
            packetSizes.append(size)
            let samples = opus_decode(decoder, packet, size, &decoded, Int32(frameSize), 0)
            #expect(samples == Int32(frameSize))
            decodedRMS = (decoded.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(frameSize)).squareRoot()
        }
        // 32 kbit/s for 20 ms is about 80 bytes a packet.
        #expect(packetSizes.dropFirst().allSatisfy { $0 > 20 && $0 < 200 }, "sizes \(packetSizes)")
        // The input's RMS is 16384 / sqrt(2) = 11585; a lossy codec keeps it within a few dB.
        #expect(decodedRMS > 6_000 && decodedRMS < 16_000, "decoded RMS \(decodedRMS)")

        // Zero crossings of the last decoded frame: 440 Hz gives about 2 * 440 / 50 = 17.6.
        let crossings = zip(decoded, decoded.dropFirst()).filter { ($0 < 0) != ($1 < 0) }.count
        #expect((14...22).contains(crossings), "zero crossings \(crossings)")
    }
}
