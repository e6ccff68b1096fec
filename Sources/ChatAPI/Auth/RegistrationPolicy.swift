/// Who may create an account (`REGISTRATION`, README "Configuration"). Whatever the policy, the
/// first account of a server with none is let in and made its administrator, so a fresh
/// install can always be taken over by whoever set it up.
public enum RegistrationPolicy: String, Sendable, CaseIterable {
    /// Anyone who reaches the server.
    case open
    /// Only with a valid invitation code (`POST /admin/invites`, `parley admin invite`).
    case invite
    /// Nobody; administrators add people by other means (invitations are refused too).
    case closed
}
