import Testing
@testable import ICE

/// RFC 4571 / RFC 6544 framing on the ICE-TCP stream.
@Suite struct ICETcpFramingTests {
    func frames(_ chunks: [[UInt8]], maxFrame: Int = 65535) throws -> [[UInt8]] {
        var d = ICETcpDeframer(maxFrame: maxFrame)
        var out: [[UInt8]] = []
        for c in chunks {
            let result: Result<Void, ICETcpDeframer.FramingError> = c.withUnsafeBytes { raw in
                do throws(ICETcpDeframer.FramingError) {
                    try d.feed(raw) { out.append(Array($0)) }
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
            try result.get()
        }
        return out
    }

    @Test func framesSplitAnywhereAreReassembled() throws {
        let stream: [UInt8] = [0, 3, 1, 2, 3, 0, 0, 0, 2, 9, 8]
        for cut1 in 0...stream.count {
            for cut2 in cut1...stream.count {
                let got = try frames([Array(stream[..<cut1]), Array(stream[cut1..<cut2]), Array(stream[cut2...])])
                #expect(got == [[1, 2, 3], [], [9, 8]])
            }
        }
    }

    @Test func oversizedFrameIsRefused() {
        #expect(throws: ICETcpDeframer.FramingError.frameTooLarge(1500)) {
            _ = try frames([[0x05, 0xDC]], maxFrame: 1400)
        }
    }

    @Test func headerIsTheBigEndianLength() {
        #expect(ICETcpDeframer.header(for: 0x1234) == (0x12, 0x34))
    }
}
