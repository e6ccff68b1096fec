import Foundation

/// Which database Parley stores its data in, parsed from `DATABASE_URL`
/// (`sqlite:///path/to/file.db`, `sqlite://relative/file.db` or `postgres://user:pass@host:port/db`).
public enum DatabaseURL: Sendable, Equatable {
    case sqlite(path: String)
    case postgres(url: String)

    public enum ParseError: Error, CustomStringConvertible, Equatable {
        case unsupported(String)
        case invalid(String)

        public var description: String {
            switch self {
            case .unsupported(let scheme):
                "DATABASE_URL scheme '\(scheme)' is not supported; use sqlite://PATH or postgres://user:pass@host/db"
            case .invalid(let reason):
                "DATABASE_URL is invalid: \(reason)"
            }
        }
    }

    public init(parsing text: String) throws(ParseError) {
        if text.hasPrefix("sqlite://") {
            let path = String(text.dropFirst("sqlite://".count))
            guard !path.isEmpty else { throw .invalid("sqlite:// needs a file path") }
            self = .sqlite(path: path)
            return
        }
        guard let components = URLComponents(string: text), let scheme = components.scheme else {
            throw .invalid("not a URL")
        }
        guard scheme == "postgres" || scheme == "postgresql" else { throw .unsupported(scheme) }
        guard let host = components.host, !host.isEmpty else { throw .invalid("postgres URL needs a host") }
        guard components.user?.isEmpty == false else { throw .invalid("postgres URL needs a user") }
        guard components.path.count > 1 else { throw .invalid("postgres URL needs a database name") }
        _ = host
        self = .postgres(url: text)
    }

    public var isPostgres: Bool {
        if case .postgres = self { return true }
        return false
    }
}
