import COpenSSL
import CParleyShims

/// A custom OpenSSL BIO that keeps datagram boundaries, which `BIO_s_mem` does not: each
/// `BIO_write` by OpenSSL is one outgoing datagram (DTLS packs whole records into datagrams no
/// bigger than the MTU, RFC 6347 §4.1.1), and each read returns exactly the one received
/// datagram being fed. No I/O happens here: the session lends the received datagram for the
/// duration of one call and collects what OpenSSL wrote.
final class DatagramBIO {
    /// The BIO handed to `SSL_set_bio`; the SSL object owns and frees it.
    let bio: OpaquePointer
    /// The received datagram, lent for the duration of one `DTLSSession` call.
    var incoming: UnsafeRawBufferPointer?
    /// Datagrams OpenSSL wrote since the session last collected them.
    var outgoing: [[UInt8]] = []

    init() throws(DTLSError) {
        guard let method = Self.method, let bio = BIO_new(method) else { throw .openSSL("BIO_new(datagram BIO)") }
        self.bio = bio
        // Unretained: the session owns this object and frees the SSL (and with it the BIO) first.
        BIO_set_data(bio, Unmanaged.passUnretained(self).toOpaque())
        BIO_set_init(bio, 1)
    }

    func takeOutgoing() -> [[UInt8]] {
        defer { outgoing = [] }
        return outgoing
    }

    fileprivate static func from(_ bio: OpaquePointer?) -> DatagramBIO? {
        guard let bio, let data = BIO_get_data(bio) else { return nil }
        return Unmanaged<DatagramBIO>.fromOpaque(data).takeUnretainedValue()
    }

    /// One BIO_METHOD for the process; OpenSSL globals need `nonisolated(unsafe)` in Swift 6.
    /// It is written once here and only read afterwards.
    nonisolated(unsafe) private static let method: OpaquePointer? = {
        guard let method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "parley datagram") else { return nil }
        BIO_meth_set_write(method, datagramWrite)
        BIO_meth_set_read(method, datagramRead)
        BIO_meth_set_ctrl(method, datagramCtrl)
        BIO_meth_set_create(method, { _ in 1 })
        BIO_meth_set_destroy(method, { bio in
            BIO_set_data(bio, nil)
            return 1
        })
        return method
    }()
}

private func datagramWrite(_ bio: OpaquePointer?, _ data: UnsafePointer<CChar>?, _ length: Int32) -> Int32 {
    guard let bio, let endpoint = DatagramBIO.from(bio), let data, length > 0 else { return 0 }
    parley_BIO_clear_retry_flags(bio)
    endpoint.outgoing.append(Array(UnsafeRawBufferPointer(start: data, count: Int(length))))
    return length
}

private func datagramRead(_ bio: OpaquePointer?, _ buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int32) -> Int32 {
    guard let bio, let endpoint = DatagramBIO.from(bio), let buffer else { return 0 }
    parley_BIO_clear_retry_flags(bio)
    guard let datagram = endpoint.incoming, datagram.count > 0 else {
        parley_BIO_set_retry_read(bio)
        return -1
    }
    endpoint.incoming = nil
    // A datagram longer than OpenSSL's buffer is truncated, as recvfrom would do.
    let count = min(datagram.count, Int(capacity))
    UnsafeMutableRawPointer(buffer).copyMemory(from: datagram.baseAddress!, byteCount: count)
    return Int32(count)
}

private func datagramCtrl(_ bio: OpaquePointer?, _ command: Int32, _ argument: Int, _ pointer: UnsafeMutableRawPointer?) -> Int {
    switch command {
    case BIO_CTRL_FLUSH:
        return 1  // anything else makes every handshake fail with SSL_ERROR_SYSCALL
    case BIO_CTRL_PENDING:
        return DatagramBIO.from(bio)?.incoming?.count ?? 0
    case BIO_CTRL_WPENDING:
        return 0
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
        return 0  // the link MTU we set is already the UDP payload size
    default:
        return 0
    }
}
