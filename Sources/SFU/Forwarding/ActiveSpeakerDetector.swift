/// Finds who is speaking from the ssrc-audio-level header extension (RFC 6464) of each audio
/// track, without decoding audio. Each packet's level (0 = loudest, 127 = silence, in -dBov)
/// becomes a loudness 127 - level, accumulated on the track
/// in an `AudioLevelAccumulator` (two integer adds per packet); at its own cadence (docs/protocol.md:
/// at most twice a second) the owner ranks the averages here.
enum ActiveSpeakerDetector {
    /// Average loudness a participant must reach to count as speaking (-50 dBov and louder, so
    /// background noise stays out). The level alone decides: the voice-activity flag is only
    /// meaningful when `vad=on` was negotiated (RFC 6464 §4), and senders such as aiortc never set it.
    static let threshold = 127 - 50

    /// The participants whose average passes the threshold, loudest first (ties by id).
    static func rank(_ averages: [(participant: UInt64, loudness: Int)]) -> [UInt64] {
        averages.filter { $0.loudness >= threshold }
            .sorted { $0.loudness != $1.loudness ? $0.loudness > $1.loudness : $0.participant < $1.participant }
            .map(\.participant)
    }
}

/// Sums the loudness of one audio track's packets between two rankings.
struct AudioLevelAccumulator {
    private(set) var sum = 0
    private(set) var count = 0

    mutating func record(level: UInt8) {
        sum += 127 - Int(min(level, 127))
        count += 1
    }

    /// The average since the last call (nil if no packet carried a level), and starts over.
    mutating func take() -> Int? {
        defer { sum = 0; count = 0 }
        return count > 0 ? sum / count : nil
    }
}
