/// The last packets of one published video layer, kept so NACKs from subscribers can be
/// answered without asking the publisher (RFC 4585 §6.2.1 Generic NACK, answered with RFC 4588
/// retransmissions).
///
/// One allocation at creation: `capacity` slots of `slotSize` bytes, indexed by sequence number
/// modulo capacity, so storing and looking up a packet is a copy and a compare, nothing more.
/// A slot remembers which sequence number it holds, so a wrapped-around slot is never returned
/// for an older number. Holds only the payload plus the RTP fields a retransmission needs; the
/// header is rewritten per subscriber anyway.
final class PacketCache {
    struct Entry {
        var sequenceNumber: UInt16
        var timestamp: UInt32
        var marker: Bool
        var payload: UnsafeRawBufferPointer
    }

    let capacity: Int
    let slotSize: Int
    private let storage: UnsafeMutableRawBufferPointer
    private var sequence: [UInt16]
    private var timestamps: [UInt32]
    private var lengths: [Int32]     // -1: empty
    private var markers: [Bool]

    init(capacity: Int = 512, slotSize: Int = 1500) {
        precondition(capacity > 0 && slotSize > 0)
        self.capacity = capacity
        self.slotSize = slotSize
        storage = .allocate(byteCount: capacity * slotSize, alignment: 16)
        sequence = Array(repeating: 0, count: capacity)
        timestamps = Array(repeating: 0, count: capacity)
        lengths = Array(repeating: -1, count: capacity)
        markers = Array(repeating: false, count: capacity)
    }

    deinit { storage.deallocate() }

    /// Keeps a copy of one packet's payload; payloads larger than a slot are not kept.
    func store(sequenceNumber: UInt16, timestamp: UInt32, marker: Bool, payload: UnsafeRawBufferPointer) {
        guard payload.count <= slotSize else { return }
        let slot = Int(sequenceNumber) % capacity
        if payload.count > 0, let base = payload.baseAddress {
            (storage.baseAddress! + slot * slotSize).copyMemory(from: base, byteCount: payload.count)
        }
        sequence[slot] = sequenceNumber
        timestamps[slot] = timestamp
        markers[slot] = marker
        lengths[slot] = Int32(payload.count)
    }

    /// The packet with this sequence number, if it is still held. The payload stays valid until
    /// the next `store` into the same slot.
    func entry(_ sequenceNumber: UInt16) -> Entry? {
        let slot = Int(sequenceNumber) % capacity
        guard lengths[slot] >= 0, sequence[slot] == sequenceNumber else { return nil }
        let start = storage.baseAddress! + slot * slotSize
        return Entry(sequenceNumber: sequenceNumber, timestamp: timestamps[slot], marker: markers[slot],
                     payload: UnsafeRawBufferPointer(start: start, count: Int(lengths[slot])))
    }

    /// Forgets everything (the publisher restarted its stream).
    func clear() {
        for index in lengths.indices { lengths[index] = -1 }
    }
}
