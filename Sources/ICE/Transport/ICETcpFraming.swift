/// RFC 4571 framing, as ICE-TCP uses it (RFC 6544 §3): each STUN, DTLS or RTP packet is sent
/// on the TCP stream preceded by its length as a 16-bit big-endian integer.
///
/// `ICETcpDeframer` turns the byte stream back into packets with one fixed buffer per
/// connection: a frame is handed out from that buffer (no per-packet heap allocation), and a
/// peer cannot make it grow past one maximal frame.
public struct ICETcpDeframer {
    /// The largest frame accepted; bigger ones close the connection (`FramingError.frameTooLarge`).
    public let maxFrame: Int
    private var buffer: [UInt8]
    private var count = 0

    public enum FramingError: Error, Equatable, Sendable {
        case frameTooLarge(Int)
    }

    public init(maxFrame: Int = 1 << 16 - 1) {
        self.maxFrame = maxFrame
        self.buffer = [UInt8](repeating: 0, count: maxFrame + 2)
    }

    /// Bytes buffered but not yet a whole frame.
    public var pending: Int { count }

    /// Appends stream bytes and calls `body` with every frame they complete, in order. The frame
    /// is borrowed from the deframer's buffer for the duration of the call.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer,
                              _ body: (UnsafeRawBufferPointer) -> Void) throws(FramingError) {
        var input = bytes[...]
        while !input.isEmpty {
            // Fill the header first, then the body, never more than one frame at a time.
            let need: Int
            if count < 2 {
                need = 2 - count
            } else {
                let length = Int(buffer[0]) << 8 | Int(buffer[1])
                guard length <= maxFrame else { throw .frameTooLarge(length) }
                need = 2 + length - count
            }
            let take = min(need, input.count)
            buffer.withUnsafeMutableBytes { b in
                UnsafeMutableRawBufferPointer(rebasing: b[count..<(count + take)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: input.prefix(take)))
            }
            count += take
            input = input.dropFirst(take)
            if count >= 2 {
                let length = Int(buffer[0]) << 8 | Int(buffer[1])
                guard length <= maxFrame else { throw .frameTooLarge(length) }
                if count == 2 + length {
                    buffer.withUnsafeBytes { b in body(UnsafeRawBufferPointer(rebasing: b[2..<(2 + length)])) }
                    count = 0
                }
            }
        }
    }

    /// The 2-byte length prefix for a packet of `length` bytes (must be <= 65535).
    public static func header(for length: Int) -> (UInt8, UInt8) {
        (UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length))
    }
}
