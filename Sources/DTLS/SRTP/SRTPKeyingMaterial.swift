/// SRTP master keys and salts for both directions of one transport, taken from the DTLS
/// exporter (RFC 5764 §4.2, label `EXTRACTOR-dtls_srtp`).
///
/// The exporter output is laid out as client_write_SRTP_master_key | server_write_SRTP_master_key
/// | client_write_SRTP_master_salt | server_write_SRTP_master_salt. The DTLS client protects
/// what it sends with the client key and salt; the server with the server ones. "Local" is what
/// this endpoint sends with (its outbound context), "remote" what it receives with.
public struct SRTPKeyingMaterial: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let profile: SRTPProfile
    public let localMasterKey: [UInt8]
    public let localMasterSalt: [UInt8]
    public let remoteMasterKey: [UInt8]
    public let remoteMasterSalt: [UInt8]

    public init(profile: SRTPProfile, localMasterKey: [UInt8], localMasterSalt: [UInt8],
                remoteMasterKey: [UInt8], remoteMasterSalt: [UInt8]) throws(DTLSError) {
        for (value, expected) in [(localMasterKey, profile.masterKeyLength), (remoteMasterKey, profile.masterKeyLength),
                                  (localMasterSalt, profile.masterSaltLength), (remoteMasterSalt, profile.masterSaltLength)]
        where value.count != expected {
            throw .invalidKeyingMaterial(expected: expected, got: value.count)
        }
        self.profile = profile
        self.localMasterKey = localMasterKey
        self.localMasterSalt = localMasterSalt
        self.remoteMasterKey = remoteMasterKey
        self.remoteMasterSalt = remoteMasterSalt
    }

    /// Splits exporter output per RFC 5764 §4.2 for an endpoint in `role`.
    public init(profile: SRTPProfile, exported: [UInt8], role: DTLSRole) throws(DTLSError) {
        let keyLength = profile.masterKeyLength
        let saltLength = profile.masterSaltLength
        guard exported.count == Self.exportedLength(for: profile) else {
            throw .invalidKeyingMaterial(expected: Self.exportedLength(for: profile), got: exported.count)
        }
        let clientKey = Array(exported[0..<keyLength])
        let serverKey = Array(exported[keyLength..<2 * keyLength])
        let clientSalt = Array(exported[2 * keyLength..<2 * keyLength + saltLength])
        let serverSalt = Array(exported[2 * keyLength + saltLength..<2 * (keyLength + saltLength)])
        switch role {
        case .server:
            try self.init(profile: profile, localMasterKey: serverKey, localMasterSalt: serverSalt,
                          remoteMasterKey: clientKey, remoteMasterSalt: clientSalt)
        case .client:
            try self.init(profile: profile, localMasterKey: clientKey, localMasterSalt: clientSalt,
                          remoteMasterKey: serverKey, remoteMasterSalt: serverSalt)
        }
    }

    /// How many bytes to export for `profile`: 2 * (key + salt).
    public static func exportedLength(for profile: SRTPProfile) -> Int {
        2 * (profile.masterKeyLength + profile.masterSaltLength)
    }

    /// The RFC 5764 §4.2 exporter label.
    public static let exporterLabel = "EXTRACTOR-dtls_srtp"

    /// Never prints the keys: the material may end up in logs through an event.
    public var description: String { "SRTPKeyingMaterial(\(profile), keys redacted)" }
    public var debugDescription: String { description }
}
