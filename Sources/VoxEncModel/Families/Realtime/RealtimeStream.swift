// One stream's state for a RealtimeModel: its key/value rings, the mel frames later blocks still read, and how far
// it has been computed. The computation itself runs in RealtimeBatch.swift, over blocks of one or several streams.
// Reference: transformers VoxtralRealtimeEncoder.forward with its padding cache and sliding-window KV cache
// (modeling_voxtral_realtime.py, 5.25). Letters: R = 24 positions per block, D, A, M, W, C as in RealtimeModel.swift.

final class RealtimeStreamState: CausalEncoderStream {
    let model: RealtimeModel
    let kind: EmbeddingKind
    let threads: Int
    let c: RealtimeConfiguration

    let rings: RealtimeRings
    /// Normalised mel, time-major, frames melBase ..< 8 · tokensAppended.
    var mel: [Float] = []
    var melBase = 0
    private(set) var tokensAppended = 0
    /// Tokens whose rows are computed (the shared prefix's included) and handed out.
    var tokensComputed = 0
    var tokensEncoded = 0
    var prefix: RealtimePrefix?
    /// When set, every computed row of both kinds is kept (the shared prefix is made this way).
    var capture: (encoder: [Float], adapter: [Float])?
    /// Where the stream's own blocks start: positions from here on go in blocks of R from here; before it, in blocks
    /// of R from 0, the last one cut short here. The shared prefix's end, plus the stream's offset.
    let origin: Int

    /// A stream from position 0, or from the model's shared `prefix` (its rings copied, its rows handed out first),
    /// whose blocks after the prefix start `offset` tokens (0 ..< R/4) later than the model's: streams of different
    /// offsets run at different moments of a step (StreamBatcher). A row's bits do not depend on its block.
    init(model: RealtimeModel, kind: EmbeddingKind, threads: Int, prefix: RealtimePrefix? = nil, offset: Int = 0) {
        self.model = model
        self.kind = kind
        self.threads = max(1, threads)
        c = model.configuration
        precondition((0..<(RealtimeModel.blockPositions / c.stackFactor)).contains(offset), "offset within a block")
        rings = RealtimeRings(model, capacity: model.ringCapacity)
        if let prefix {
            rings.copy(slots: prefix.slots, from: prefix.rings)
            self.prefix = prefix
            tokensComputed = prefix.tokens
        }
        origin = (tokensComputed + offset) * c.stackFactor
    }

    /// The first position of the block holding position `p`.
    func blockStart(containing p: Int) -> Int {
        let R = RealtimeModel.blockPositions
        return p < origin ? p / R * R : origin + (p - origin) / R * R
    }

    /// The position after the block that starts at `start`.
    func blockEnd(from start: Int) -> Int {
        let R = RealtimeModel.blockPositions
        return start < origin ? min(start + R, origin) : start + R
    }

    /// Bytes of one stream's state for `c` with float32 rings (bf16 layers take half): its key/value rings (the mel
    /// history is small; the work buffers belong to the model, RealtimeWorkspace).
    static func byteCount(_ c: RealtimeConfiguration) -> Int {
        c.layerCount * KeyValueRing.byteCount(capacity: c.slidingWindow - 1 + RealtimeModel.blockPositions,
                                              heads: c.headCount, headWidth: c.headDimension, element: .float32)
    }

    var byteCount: Int { rings.byteCount }

    /// The state after `tokens` appended silent tokens, as a shared prefix: the rings' slots those tokens wrote.
    func snapshot(tokens: Int) -> RealtimePrefix {
        capture = ([], [])
        _ = encodePending(upTo: nil) { _ in }
        let made = RealtimePrefix(model: model, tokens: tokens, encoderRows: capture!.encoder, adapterRows: capture!.adapter)
        made.rings.copy(slots: made.slots, from: rings)
        capture = nil
        return made
    }

    func append(mel values: UnsafePointer<Float>, tokens: Int) {
        mel.append(contentsOf: UnsafeBufferPointer(start: values,
                                                   count: tokens * RealtimeConfiguration.melFramesPerToken * c.melBinCount))
        tokensAppended += tokens
    }

    func encodePending(upTo end: Int?, _ sink: (UnsafeBufferPointer<Float>) -> Void) -> (encoder: Double, adapter: Double) {
        withoutActuallyEscaping(sink) { sink in
            model.encodePending([CausalEncodeRequest(stream: self, end: end, sink: sink)], threads: threads)[0]
        }
    }

    /// Mel frame f of the stream ([M] floats), which must still be held.
    func melFrame(_ f: Int, into destination: UnsafeMutablePointer<Float>) {
        mel.withUnsafeBufferPointer { m in
            destination.update(from: m.baseAddress! + (f - melBase) * c.melBinCount, count: c.melBinCount)
        }
    }

    /// Drops the mel frames no block after the first `tokens` tokens reads: the next block starts at the block
    /// holding the next position, p0, reading frames from 2·p0 − 3.
    func dropMel(before tokens: Int) {
        let keepFrom = max(0, 2 * blockStart(containing: tokens * c.stackFactor) - 3)
        if keepFrom > melBase {
            mel.removeFirst((keepFrom - melBase) * c.melBinCount)
            melBase = keepFrom
        }
    }
}
