/// The H.264 `profile-level-id` parameter (RFC 6184 §8.1): three bytes in hex, `profile_idc`,
/// `profile-iop` (the constraint_set flags) and `level_idc`.
///
/// Parley forwards only Constrained Baseline, which every WebRTC endpoint must decode
/// (RFC 7742 §6.2). RFC 6184 §8.1 Table 5 lists three spellings of it:
/// `42` with profile-iop `x1xx0000` (Baseline with constraint_set1), `4D` with `1xxx0000` (Main
/// with constraint_set0) and `58` with `11xx0000` (Extended with constraint_set0 and 1).
/// Chromium offers `42e01f` and `42001f` (plain Baseline, not constrained), Safari `42e01f` and
/// `640c1f` (High).
public struct H264Profile: Sendable, Equatable {
    public var profileIdc: UInt8
    public var profileIop: UInt8
    public var levelIdc: UInt8

    public init?(profileLevelId text: String) {
        guard text.utf8.count == 6, let value = UInt32(text, radix: 16) else { return nil }
        profileIdc = UInt8(truncatingIfNeeded: value >> 16)
        profileIop = UInt8(truncatingIfNeeded: value >> 8)
        levelIdc = UInt8(truncatingIfNeeded: value)
    }

    /// RFC 6184 §8.1 Table 5, the Constrained Baseline rows. The low four bits (constraint_set4,
    /// constraint_set5 and reserved bits) must be zero in each.
    public var isConstrainedBaseline: Bool {
        guard profileIop & 0x0F == 0 else { return false }
        switch profileIdc {
        case 0x42: return profileIop & 0x40 != 0
        case 0x4D: return profileIop & 0x80 != 0
        case 0x58: return profileIop & 0xC0 == 0xC0
        default: return false
        }
    }

    /// When `profile-level-id` is absent, RFC 6184 §8.1 says the default is `420010`: Baseline
    /// level 1.0, not constrained baseline, so such a payload type is not chosen.
    public static func of(_ parameters: FormatParameters) -> H264Profile? {
        H264Profile(profileLevelId: parameters["profile-level-id"] ?? "420010")
    }
}
