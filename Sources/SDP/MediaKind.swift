/// The kinds of media Parley forwards (the `m=` media token, RFC 8866 §5.14).
public enum MediaKind: String, Sendable, CaseIterable {
    case audio, video
}
