/// Why the media socket could not be opened.
public enum MediaSocketError: Error, Equatable, Sendable {
    case badBindAddress(String)
    /// A system call failed; `errno` as returned.
    case system(call: String, errno: Int32)
}
