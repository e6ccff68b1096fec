/// The client-to-mixer audio level header extension (RFC 6464 §3): one byte, the V flag (the
/// sender's voice activity decision) and the level in -dBov from 0 (loudest) to 127 (silence).
/// The SFU reads it to find active speakers without decoding Opus.
public struct AudioLevel: Equatable, Sendable {
    /// V: the sender believes the packet contains voice (RFC 6464 §3).
    public var voice: Bool
    /// Audio level in -dBov, 0...127 (RFC 6464 §3: 127 is digital silence).
    public var level: UInt8

    public init(voice: Bool, level: UInt8) {
        self.voice = voice
        self.level = level & 0x7F
    }

    /// Parses the element value; nil if it is empty. In the two-byte form (RFC 6464 §3) the value
    /// may be followed by padding, so only the first byte counts.
    public init?(_ element: UnsafeRawBufferPointer) {
        guard element.count >= 1 else { return nil }
        let b = element[0]
        self.voice = b & 0x80 != 0
        self.level = b & 0x7F
    }

    /// The element byte.
    public var byte: UInt8 { (voice ? 0x80 : 0) | (level & 0x7F) }
}
