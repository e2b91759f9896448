// Every layer's key/value ring of one stream, or of the shared silent prefix: one allocation, layer after layer.
// Each layer's elements follow the policy's attention operands (bf16 above bf16's float layers, float32 otherwise).
// Not cleared: attention reads only the slots of positions already stored, so untouched pages stay untouched until
// the stream reaches them. Letters: C slots per layer (the stream's W − 1 + R, or the prefix's positions).

final class RealtimeRings {
    let capacity: Int
    private let bytes: UnsafeMutableRawBufferPointer
    /// Byte offset of each layer's ring; the last entry is the total.
    private let offsets: [Int]
    private let elements: [KeyValueRing.Element]
    private let heads: Int, headWidth: Int

    init(_ model: RealtimeModel, capacity: Int) {
        let c = model.configuration
        (self.capacity, heads, headWidth, elements) = (capacity, c.headCount, c.headDimension, model.ringElements)
        offsets = elements.reduce(into: [0]) { offsets, element in
            offsets.append(offsets.last! + KeyValueRing.byteCount(capacity: capacity, heads: c.headCount,
                                                                  headWidth: c.headDimension, element: element))
        }
        bytes = .allocate(byteCount: max(1, offsets.last!), alignment: 64)
    }

    deinit { bytes.deallocate() }

    var byteCount: Int { offsets.last! }

    /// Layer `l`'s ring.
    func ring(_ l: Int) -> KeyValueRing {
        KeyValueRing(bytes.baseAddress! + offsets[l], element: elements[l], capacity: capacity, heads: heads,
                     headWidth: headWidth)
    }

    /// Slots 0 ..< `slots` of every layer, copied from `source` (rings of the same model, any capacity).
    func copy(slots: Int, from source: RealtimeRings) {
        for l in 0..<elements.count { ring(l).copy(slots: slots, from: source.ring(l)) }
    }
}
