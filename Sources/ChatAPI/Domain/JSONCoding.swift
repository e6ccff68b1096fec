import Foundation

/// The one JSON encoder and decoder configuration used on the wire.
public enum JSONCoding {
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()

    public static func decoder() -> JSONDecoder { JSONDecoder() }
}
