import Foundation

/// The two spellings of a request's time that SigV4 uses: `X-Amz-Date` (`20130524T000000Z`)
/// and the credential scope's date (`20130524`), both in UTC.
public struct SigV4Timestamp: Sendable, Equatable {
    public let amzDate: String
    public var date: Substring { amzDate.prefix(8) }

    public init(_ instant: Date) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: instant)
        func two(_ value: Int?) -> String { let v = value ?? 0; return v < 10 ? "0\(v)" : "\(v)" }
        let year = String(parts.year ?? 1970)
        amzDate = "\(year)\(two(parts.month))\(two(parts.day))T\(two(parts.hour))\(two(parts.minute))\(two(parts.second))Z"
    }
}
