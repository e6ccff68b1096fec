import Foundation

/// Reads a file of `Tests/CodecTestSupport/Fixtures`.
public func fixture(_ name: String) throws -> String {
    guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures") else {
        throw FixtureMissing(name: name)
    }
    return try String(contentsOf: url, encoding: .utf8)
}

public struct FixtureMissing: Error { public var name: String }
