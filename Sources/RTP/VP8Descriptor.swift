import ByteOrder

/// The VP8 payload descriptor (RFC 7741 §4.2) at the start of every VP8 RTP payload:
///
/// ```
///  X|R|N|S|R|PID      required
///  I|L|T|K|RSV        if X
///  M|PictureID(7/15)  if I
///  TL0PICIDX          if L
///  TID|Y|KEYIDX       if T or K
/// ```
/// It records where PictureID and TL0PICIDX lie so the SFU can rewrite them in place when it
/// switches a subscriber between simulcast layers: each layer numbers its pictures on its own,
/// and the receiver must see one continuous sequence.
public struct VP8Descriptor: Equatable, Sendable {
    /// S: this packet starts a VP8 partition.
    public var startOfPartition: Bool
    /// PID: the partition index (0-7).
    public var partitionIndex: UInt8
    /// N: the frame is not used as a reference by others (it may be dropped).
    public var nonReference: Bool
    /// PictureID, 7 or 15 bits wide as on the wire.
    public var pictureId: UInt16?
    /// M: PictureID has the 15-bit form.
    public var pictureIdIs15Bit: Bool
    public var tl0PicIdx: UInt8?
    /// TID, present when T is set.
    public var temporalLayer: UInt8?
    /// Y: layer sync (present when T is set).
    public var layerSync: Bool
    /// KEYIDX, present when K is set.
    public var keyIndex: UInt8?
    /// Bytes of the descriptor; the VP8 payload header follows.
    public var descriptorLength: Int
    /// Offset of the PictureID field in the payload, when present.
    public var pictureIdOffset: Int?
    /// Offset of the TL0PICIDX field in the payload, when present.
    public var tl0PicIdxOffset: Int?

    /// Parses the descriptor; nil if the payload ends inside it.
    public init?(_ payload: UnsafeRawBufferPointer) {
        let count = payload.count
        guard count >= 1 else { return nil }
        let b0 = payload[0]
        startOfPartition = b0 & 0x10 != 0
        partitionIndex = b0 & 0x07
        nonReference = b0 & 0x20 != 0
        pictureId = nil
        pictureIdIs15Bit = false
        tl0PicIdx = nil
        temporalLayer = nil
        layerSync = false
        keyIndex = nil
        pictureIdOffset = nil
        tl0PicIdxOffset = nil
        var o = 1
        if b0 & 0x80 != 0 {
            guard o < count else { return nil }
            let x = payload[o]
            o += 1
            if x & 0x80 != 0 {  // I
                guard o < count else { return nil }
                pictureIdOffset = o
                if payload[o] & 0x80 != 0 {
                    guard o + 2 <= count else { return nil }
                    pictureId = payload.readBE16(at: o) & 0x7FFF
                    pictureIdIs15Bit = true
                    o += 2
                } else {
                    pictureId = UInt16(payload[o])
                    o += 1
                }
            }
            if x & 0x40 != 0 {  // L
                guard o < count else { return nil }
                tl0PicIdxOffset = o
                tl0PicIdx = payload[o]
                o += 1
            }
            if x & 0x30 != 0 {  // T or K
                guard o < count else { return nil }
                let b = payload[o]
                if x & 0x20 != 0 {
                    temporalLayer = b >> 6
                    layerSync = b & 0x20 != 0
                }
                if x & 0x10 != 0 { keyIndex = b & 0x1F }
                o += 1
            }
        }
        descriptorLength = o
    }

    /// True if the packet this descriptor was read from starts a keyframe (RFC 7741 §4.3: the
    /// first packet of partition 0, whose VP8 payload header has P = 0).
    public func beginsKeyframe(in payload: UnsafeRawBufferPointer) -> Bool {
        startOfPartition && partitionIndex == 0 && descriptorLength < payload.count && payload[descriptorLength] & 0x01 == 0
    }

    /// Writes PictureID and/or TL0PICIDX (nil leaves a field alone) into a copy of the payload
    /// this descriptor was read from, at the offsets found then, so an SFU parses once per
    /// packet and rewrites per subscriber. The PictureID keeps the width it has on the wire: a
    /// 7-bit field gets the low 7 bits, a 15-bit field the low 15 bits.
    public func write(pictureId: UInt16?, tl0PicIdx: UInt8?, into payload: UnsafeMutableRawBufferPointer) {
        if let pictureId, let o = pictureIdOffset, o + (pictureIdIs15Bit ? 2 : 1) <= payload.count {
            if pictureIdIs15Bit {
                payload.writeBE16(0x8000 | (pictureId & 0x7FFF), at: o)
            } else {
                payload[o] = UInt8(truncatingIfNeeded: pictureId) & 0x7F
            }
        }
        if let tl0PicIdx, let o = tl0PicIdxOffset, o < payload.count {
            payload[o] = tl0PicIdx
        }
    }

    /// Parses and rewrites in place in one step. Returns false, changing nothing, if the
    /// descriptor does not parse.
    @discardableResult
    public static func rewrite(_ payload: UnsafeMutableRawBufferPointer, pictureId: UInt16?, tl0PicIdx: UInt8?) -> Bool {
        guard let d = VP8Descriptor(UnsafeRawBufferPointer(payload)) else { return false }
        d.write(pictureId: pictureId, tl0PicIdx: tl0PicIdx, into: payload)
        return true
    }
}
