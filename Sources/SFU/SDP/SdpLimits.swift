/// Bounds on SDP Parley reads. A browser's offer is a few KiB (Chromium's simulcast offer with
/// every codec is about 6 KiB); anything far past these is a bug or an attack.
public enum SdpLimits {
    /// Longest SDP text accepted, in UTF-8 bytes.
    public static let maxBytes = 64 * 1024
    /// Most m-sections in one description (one per track; a call of 64 tracks is far beyond
    /// what one subscriber can show).
    public static let maxMediaSections = 64
    /// Most payload types in one m-line (Chromium offers about 25 for video).
    public static let maxFormats = 128
    /// Most simulcast streams (rids) in one m-section (RFC 8853); browsers send up to 4.
    public static let maxRids = 16
    /// Longest mid, rid, stream or track id accepted.
    public static let maxIdentifierLength = 255
}
