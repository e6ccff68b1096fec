import Hummingbird

/// Where people reach this server, for the links it hands out (an invitation's sign-up link, a
/// webhook's URL): `PUBLIC_URL` when configured, else the origin the request itself came from
/// (its `Origin` header, which a browser sends, or its scheme and `Host`). Only an
/// administrator or a group's manager sees these links, in the answer to their own request, so
/// a forged header misleads nobody but its sender.
public enum PublicOrigin {
    public static func of(_ request: Request, configured: String?) -> String {
        if let configured { return trimmed(configured) }
        if let origin = request.headers[.origin], isPlausible(origin) { return trimmed(origin) }
        let host = request.head.authority ?? "localhost"
        let forwarded = request.headers.first { $0.name.canonicalName == "x-forwarded-proto" }?.value.lowercased()
        let scheme = forwarded == "https" || request.head.scheme == "https" ? "https" : "http"
        let origin = "\(scheme)://\(host)"
        return isPlausible(origin) ? origin : "http://localhost"
    }

    /// `http(s)://` and a host (with a port, perhaps): nothing that could break out of a URL.
    static func isPlausible(_ origin: String) -> Bool {
        guard origin.hasPrefix("http://") || origin.hasPrefix("https://"), origin.utf8.count <= 300 else { return false }
        let rest = origin.drop(while: { $0 != "/" }).dropFirst(2)
        return !rest.isEmpty && rest.allSatisfy { $0.isLetter || $0.isNumber || "-.:[]".contains($0) }
    }

    private static func trimmed(_ origin: String) -> String {
        origin.hasSuffix("/") ? String(origin.dropLast()) : origin
    }
}
