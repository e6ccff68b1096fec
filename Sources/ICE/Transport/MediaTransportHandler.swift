/// What the DTLS/SRTP side of one transport implements to receive from the shared media port.
/// All calls come on the media I/O thread, synchronously, while the router is handling a
/// packet: no locks, no hops. Packet bytes are borrowed: copy what must outlive the call.
public protocol MediaTransportHandler: AnyObject {
    /// A DTLS, RTP or RTCP datagram arrived from a 5-tuple that passed a valid ICE check for
    /// this transport (RFC 8445 §7.3: media only on validated pairs; RFC 7983 demultiplexed).
    func mediaTransport(_ id: ICETransportID, received packet: UnsafeRawBufferPointer, kind: MediaPacketKind,
                        from path: FiveTuple, router: MediaTransportRouter)

    /// The peer nominated a 5-tuple, or media moved to a new one (`previous` is the old one).
    /// `router.send(_:on:)` now uses `path`.
    func mediaTransport(_ id: ICETransportID, selected path: FiveTuple, previous: FiveTuple?, router: MediaTransportRouter)

    /// The transport is gone (consent expired, or removed); the router forgot it.
    func mediaTransportClosed(_ id: ICETransportID, reason: ICECloseReason)
}

/// Where the router's outgoing datagrams go: the UDP socket and ICE-TCP connections in
/// production (`MediaIOThread`), a recorder in tests.
public protocol DatagramSink: AnyObject {
    /// Sends (or queues for the current batch) one datagram to `path`. Must copy the bytes.
    func send(_ packet: UnsafeRawBufferPointer, to path: FiveTuple)
}
