import Foundation

/// The `KEY=VALUE` file systemd's `EnvironmentFile=` and compose's `env_file` read
/// (`/etc/parley/parley.env`), parsed the way the service will see it, so that `parley check`
/// judges the values the server will start with rather than the shell's.
///
/// Accepted: blank lines, `#` and `;` comments, an optional `export ` prefix, values in single
/// or double quotes (quotes removed; inside double quotes `\"` and `\\` are unescaped).
/// A line without `=` is an error, reported with its number.
struct EnvironmentFile: Equatable {
    var values: [String: String]

    struct ParseError: Error, CustomStringConvertible, Equatable {
        var line: Int
        var problem: String
        var description: String { "line \(line): \(problem)" }
    }

    init(parsing text: String) throws(ParseError) {
        var values: [String: String] = [:]
        // `\.isNewline`, not "\n": in Swift "\r\n" is one Character, so a file saved with Windows
        // line ends would otherwise be one line.
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst("export ".count)).trimmingCharacters(in: .whitespaces) }
            guard let equals = line.firstIndex(of: "=") else {
                throw ParseError(line: index + 1, problem: "expected NAME=value")
            }
            let name = line[..<equals].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                throw ParseError(line: index + 1, problem: "'\(name.prefix(40))' is not a variable name")
            }
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
                if first == "\"" {
                    value = value.replacingOccurrences(of: "\\\\", with: "\u{0}").replacingOccurrences(of: "\\\"", with: "\"")
                        .replacingOccurrences(of: "\u{0}", with: "\\")
                }
            }
            values[name] = value
        }
        self.values = values
    }
}
