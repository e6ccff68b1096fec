/// Bounds on SDP Parley reads. A browser's offer is a few KiB (Chromium's simulcast offer with
/// every codec is about 6 KiB); anything far past these is a bug or an attack.
public enum SDPLimits {
    /// Longest SDP text accepted, in UTF-8 bytes.
    public static let maxBytes = 64 * 1024
    /// Most m-sections in one description. A subscribe connection has one per remote track
    /// ever offered (a gone track's section stays, inactive), so a large call with people coming
    /// and going needs a few hundred; the 64 KiB text limit bounds it as well.
    public static let maxMediaSections = 256
    /// Most payload types in one m-line (Chromium offers about 25 for video).
    public static let maxFormats = 128
    /// Most simulcast streams (rids) in one m-section the parser reads (RFC 8853); browsers send up to 4.
    public static let maxRids = 16
    /// Most simulcast encodings a publish offer's video section may send (the rids `h`, `m`,
    /// `l`). Each is a layer the engine keeps statistics and, once media arrives, a packet cache for.
    public static let maxSimulcastEncodings = 3
    /// Sending sections per publish offer unless `CALL_MAX_TRACKS` says otherwise: a microphone,
    /// a camera, a screen share and its audio.
    public static let defaultMaxPublishTracks = 4
    /// Longest mid, rid, stream or track id accepted.
    public static let maxIdentifierLength = 255
}
