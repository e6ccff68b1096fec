/// Helpers for the RTP and RTCP codec tests: byte vectors written as hex, and running a writer
/// against a fixed-size buffer.

/// Bytes from hex text; spaces, newlines and `|` separators are ignored.
public func rtpBytes(_ text: String) -> [UInt8] {
    var out: [UInt8] = []
    var high: UInt8?
    for c in text.unicodeScalars {
        let v: UInt8
        switch c {
        case "0"..."9": v = UInt8(c.value - 48)
        case "a"..."f": v = UInt8(c.value - 87)
        case "A"..."F": v = UInt8(c.value - 55)
        default: continue
        }
        if let h = high {
            out.append(h << 4 | v)
            high = nil
        } else {
            high = v
        }
    }
    precondition(high == nil, "odd number of hex digits")
    return out
}

/// Runs a writer on a zeroed buffer of `capacity` bytes and returns what it wrote (the prefix
/// of the returned length).
public func rtpWritten(capacity: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int) -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: capacity)
    let n = buffer.withUnsafeMutableBytes { body($0) }
    return Array(buffer.prefix(n))
}

/// A small seeded generator (SplitMix64) so the fuzz loops are reproducible.
public struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

import Foundation

/// Runs a Python snippet with the test environment's Python (`PARLEY_PYTHON`, else `python3`, as
/// the other aiortc interop tests do) and returns its standard output parsed as one JSON object.
/// The snippets use aiortc's RTP/RTCP code as an independent implementation of the formats.
public func runPythonJSON(_ script: String, arguments: [String]) throws -> [String: Any] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    let python = ProcessInfo.processInfo.environment["PARLEY_PYTHON"] ?? "python3"
    process.arguments = [python, "-c", script] + arguments
    let stdout = Pipe()
    process.standardOutput = stdout
    try process.run()
    let data = stdout.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0,
          let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw PythonFailed(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }
    return object
}

struct PythonFailed: Error { var status: Int32; var output: String }

extension Array where Element == UInt8 {
    public var hexString: String { map { String(format: "%02x", $0) }.joined() }
}
