// One stream's run state for a RealtimeModel, and the encoder's computation of a run of blocks.
// Reference: transformers VoxtralRealtimeEncoder.forward with its padding cache and sliding-window KV cache, and
// get_audio_features' adapter (modeling_voxtral_realtime.py, 5.25):
//   conv1 (k3, s1, causal: 2 zero frames on the left) → GELU → conv2 (k3, s2, causal: 1 zero frame) → GELU
//   → per layer: x += o(attn(RMSNorm(x))) (RoPE on q, k; causal window W); x += down(silu(gate(h)) · up(h)),
//     h = RMSNorm(x) → RMSNorm → (encoder rows) → 4 rows stacked → linear_1 → GELU → linear_2 (adapter rows).
// Positions come in blocks of R aligned to the stream's start; each block's rows go through the same kernel calls
// whether the block arrived whole or in pieces (a block computed before all its tokens arrived is computed again
// from its start once they have; its finished rows come out the same). Nothing is allocated per call.
// Letters: R = 24 positions per block, B blocks per call, D, A, F, M, Dt, W, C as in RealtimeModel.swift.

final class RealtimeStreamState: CausalEncoderStream {
    let model: RealtimeModel
    let kind: EmbeddingKind
    let threads: Int
    private let c: RealtimeConfiguration
    /// Blocks one call computes at most (a panel's weights serve them all while in cache).
    static let maxBlocksPerCall = 8

    private let rings: UnsafeMutableBufferPointer<Float>
    private let ringFloats: Int
    /// Normalised mel, time-major, frames melBase ..< 8 · tokensAppended.
    private var mel: [Float] = []
    private var melBase = 0
    private(set) var tokensAppended = 0
    /// Tokens whose rows are computed (the shared prefix's included) and handed out.
    private var tokensComputed = 0
    private(set) var tokensEncoded = 0
    private var prefix: RealtimePrefix?
    /// When set, every computed row of both kinds is kept (the shared prefix is made this way).
    private var capture: (encoder: [Float], adapter: [Float])?

    // Work buffers for maxBlocksPerCall blocks.
    private let columns1, conv1Out, columns2, x, h, qkv, attention, projected, gateUp, activation, hidden, adapted,
                scores, tiles, angles: UnsafeMutableBufferPointer<Float>

    /// A stream from position 0, or from the model's shared `prefix` (its rings copied, its rows handed out first).
    init(model: RealtimeModel, kind: EmbeddingKind, threads: Int, prefix: RealtimePrefix? = nil) {
        self.model = model
        self.kind = kind
        self.threads = max(1, threads)
        c = model.configuration
        let (D, A, F, M, Dt) = (c.modelDimension, c.attentionWidth, c.feedForwardDimension, c.melBinCount,
                                c.adapterDimension)
        let r = RealtimeModel.blockPositions * Self.maxBlocksPerCall
        let frames = RealtimeModel.convFramesPerBlock * Self.maxBlocksPerCall
        func buffer(_ count: Int) -> UnsafeMutableBufferPointer<Float> {
            let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, count))
            b.initialize(repeating: 0)
            return b
        }
        ringFloats = KeyValueRing.floatCount(capacity: model.ringCapacity, heads: c.headCount, headWidth: c.headDimension)
        rings = .allocate(capacity: max(1, ringFloats * c.layerCount))
        if let prefix {  // written once: no zeroing first (the rings are hundreds of MB)
            precondition(prefix.rings.count == ringFloats * c.layerCount, "prefix of another model")
            _ = rings.initialize(from: prefix.rings)
            self.prefix = prefix
            tokensComputed = prefix.tokens
        } else {
            rings.initialize(repeating: 0)
        }
        columns1 = buffer(frames * 3 * M)
        conv1Out = buffer(frames * D)
        columns2 = buffer(r * 3 * D)
        x = buffer(r * D)
        h = buffer(r * D)
        qkv = buffer(r * 3 * A)
        attention = buffer(r * A)
        projected = buffer(r * D)
        gateUp = buffer(r * 2 * F)
        activation = buffer(r * F)
        hidden = buffer(r / c.stackFactor * Dt)
        adapted = buffer(r / c.stackFactor * Dt)
        scores = buffer(self.threads * SlidingWindowAttention.scratchCount(window: c.slidingWindow))
        tiles = buffer(PanelledLinear.scratchCount(threads: self.threads, blockRows: RealtimeModel.convFramesPerBlock))
        angles = buffer(r * c.headDimension)  // cos | sin [Dh / 2] per position of a call
    }

    deinit {
        for b in [rings, columns1, conv1Out, columns2, x, h, qkv, attention, projected, gateUp, activation, hidden,
                  adapted, scores, tiles, angles] { b.deallocate() }
    }

    /// Bytes of run state for `c` on `threads` threads (rings and work buffers; the mel history is small).
    static func byteCount(_ c: RealtimeConfiguration, threads: Int) -> Int {
        let (D, A, F, M, Dt) = (c.modelDimension, c.attentionWidth, c.feedForwardDimension, c.melBinCount,
                                c.adapterDimension)
        let r = RealtimeModel.blockPositions * maxBlocksPerCall
        let frames = RealtimeModel.convFramesPerBlock * maxBlocksPerCall
        let rings = c.layerCount * KeyValueRing.floatCount(capacity: c.slidingWindow - 1 + RealtimeModel.blockPositions,
                                                           heads: c.headCount, headWidth: c.headDimension)
        let work = frames * (3 * M + D) + r * (3 * D + 3 * D + 4 * A + 3 * F) + 2 * r / c.stackFactor * Dt
        let tiles = PanelledLinear.scratchCount(threads: threads, blockRows: RealtimeModel.convFramesPerBlock)
        return 4 * (rings + work + threads * c.slidingWindow + tiles + r * c.headDimension)
    }

    var byteCount: Int { Self.byteCount(c, threads: threads) }

    /// The state after `tokens` appended silent tokens, as a shared prefix.
    func snapshot(tokens: Int) -> RealtimePrefix {
        capture = ([], [])
        _ = encodePending(upTo: nil) { _ in }
        let made = RealtimePrefix(tokens: tokens, rings: Array(rings), encoderRows: capture!.encoder,
                                  adapterRows: capture!.adapter)
        capture = nil
        return made
    }

    func append(mel values: UnsafePointer<Float>, tokens: Int) {
        mel.append(contentsOf: UnsafeBufferPointer(start: values,
                                                   count: tokens * RealtimeConfiguration.melFramesPerToken * c.melBinCount))
        tokensAppended += tokens
    }

    func encodePending(upTo end: Int?, _ sink: (UnsafeBufferPointer<Float>) -> Void) -> (encoder: Double, adapter: Double) {
        let target = min(tokensAppended, end ?? tokensAppended)
        var seconds = (encoder: 0.0, adapter: 0.0)
        // The shared prefix's rows, as far as the stream has reached.
        if let prefix, tokensEncoded < min(prefix.tokens, target) {
            let rows = kind == .adapter ? prefix.adapterRows : prefix.encoderRows
            let width = model.output(kind).width * model.output(kind).rowsPerStep
            let end = min(prefix.tokens, target)
            rows.withUnsafeBufferPointer { all in
                sink(UnsafeBufferPointer(rebasing: all[(tokensEncoded * width)..<(end * width)]))
            }
            tokensEncoded = end
        }
        guard target > tokensComputed else { return seconds }
        let tokensPerBlock = RealtimeModel.blockPositions / c.stackFactor
        var block = tokensComputed / tokensPerBlock
        let lastBlock = (target - 1) / tokensPerBlock
        Parallel.withThreads(threads) {
            while block <= lastBlock {
                let count = min(Self.maxBlocksPerCall, lastBlock - block + 1)
                let spent = run(blocks: block, count: count, tokens: target,
                                emitFrom: tokensComputed - block * tokensPerBlock, sink: sink)
                seconds.encoder += spent.encoder
                seconds.adapter += spent.adapter
                block += count
            }
        }
        tokensComputed = target
        tokensEncoded = target
        // Mel frames no later block reads: the next block starts at position 24·b, reading frames from 48·b − 3.
        let keepFrom = max(0, 2 * RealtimeModel.blockPositions * (target / tokensPerBlock) - 3)
        if keepFrom > melBase {
            mel.removeFirst((keepFrom - melBase) * c.melBinCount)
            melBase = keepFrom
        }
        return seconds
    }

    /// Blocks first ..< first + count, the stream's tokens being `tokens`; hands out the rows of tokens from
    /// `emitFrom` (relative to the first block's first token) on.
    private func run(blocks first: Int, count: Int, tokens: Int, emitFrom: Int,
                     sink: (UnsafeBufferPointer<Float>) -> Void) -> (encoder: Double, adapter: Double) {
        let start = MonotonicClock.seconds()
        let R = RealtimeModel.blockPositions, F1 = RealtimeModel.convFramesPerBlock
        let (D, A, F, M, Dt) = (c.modelDimension, c.attentionWidth, c.feedForwardDimension, c.melBinCount,
                                c.adapterDimension)
        let rows = count * R
        let positions = tokens * c.stackFactor  // positions with all their input
        let melFrames = tokens * RealtimeConfiguration.melFramesPerToken

        // Stem. conv1 frame f reads mel f − 2, f − 1, f (zeros before 0: the causal left pad; frames not yet here are
        // zeros too, for rows that are computed again later). Block at p0 needs conv1 frames 2·p0 − 1 ... 2·p0 + 2R − 1.
        for i in 0..<count {
            let p0 = (first + i) * R
            for r in 0..<F1 {
                let f = 2 * p0 - 1 + r
                let row = columns1.baseAddress! + (i * F1 + r) * 3 * M
                for k in 0..<3 {
                    let source = f - 2 + k
                    if source >= 0 && source < melFrames {
                        mel.withUnsafeBufferPointer { m in
                            (row + k * M).update(from: m.baseAddress! + (source - melBase) * M, count: M)
                        }
                    } else {
                        (row + k * M).update(repeating: 0, count: M)
                    }
                }
            }
        }
        model.conv1.multiply(columns1.baseAddress!, blocks: count, blockRows: F1, scratch: tiles.baseAddress!, into: conv1Out.baseAddress!)
        model.conv1.bias!.withUnsafeBufferPointer { b in
            GELU.applyInPlace(conv1Out.baseAddress!, rows: count * F1, columns: D, addingBias: b.baseAddress!)
        }
        if first == 0 { conv1Out.baseAddress!.update(repeating: 0, count: D) }  // conv1 frame −1: conv2's left pad
        for i in 0..<count {
            for r in 0..<R {  // position p0 + r reads conv1 frames 2r, 2r + 1, 2r + 2 of its block
                (columns2.baseAddress! + (i * R + r) * 3 * D)
                    .update(from: conv1Out.baseAddress! + (i * F1 + 2 * r) * D, count: 3 * D)
            }
        }
        model.conv2.multiply(columns2.baseAddress!, blocks: count, blockRows: R, scratch: tiles.baseAddress!, into: x.baseAddress!)
        model.conv2.bias!.withUnsafeBufferPointer { b in
            GELU.applyInPlace(x.baseAddress!, rows: rows, columns: D, addingBias: b.baseAddress!)
        }

        // Layers.
        let scale = 1 / Float(c.headDimension).squareRoot()
        let half = c.headDimension / 2
        // cos | sin of each position of the call, once for every layer.
        for i in 0..<rows {
            let at = angles.baseAddress! + i * 2 * half
            model.rope.angles(position: first * R + i, cos: at, sin: at + half)
        }
        for (l, layer) in model.layers.enumerated() {
            RMSNorm.apply(x.baseAddress!, rows: rows, width: D, weight: layer.attentionNorm, epsilon: c.normEpsilon,
                          into: h.baseAddress!)
            layer.qkv.multiply(h.baseAddress!, blocks: count, blockRows: R, scratch: tiles.baseAddress!, into: qkv.baseAddress!)
            Self.addBias(layer.qkv.bias!, to: qkv.baseAddress!, rows: rows, columns: 3 * A)
            let ring = KeyValueRing(keys: rings.baseAddress! + l * ringFloats,
                                    values: rings.baseAddress! + l * ringFloats + ringFloats / 2,
                                    capacity: model.ringCapacity, heads: c.headCount, headWidth: c.headDimension)
            for i in 0..<count {
                let p0 = (first + i) * R
                let valid = min(R, positions - p0)
                let base = qkv.baseAddress! + i * R * 3 * A
                for r in 0..<valid {
                    let row = base + r * 3 * A
                    let at = angles.baseAddress! + (i * R + r) * 2 * half
                    model.rope.rotate(row, heads: c.headCount, cos: at, sin: at + half)
                    model.rope.rotate(row + A, heads: c.headCount, cos: at, sin: at + half)
                    for j in 0..<A { row[j] *= scale }
                }
                ring.store(k: base + A, v: base + 2 * A, stride: 3 * A, rows: valid, firstPosition: p0)
                let out = attention.baseAddress! + i * R * A
                SlidingWindowAttention.apply(q: base, stride: 3 * A, rows: valid, firstPosition: p0,
                                             window: c.slidingWindow, ring: ring, scratch: scores.baseAddress!,
                                             into: out)
                if valid < R { (out + valid * A).update(repeating: 0, count: (R - valid) * A) }
            }
            layer.output.multiply(attention.baseAddress!, blocks: count, blockRows: R, scratch: tiles.baseAddress!, into: projected.baseAddress!)
            Self.addResidual(projected.baseAddress!, bias: layer.output.bias!, into: x.baseAddress!, rows: rows,
                             columns: D)
            RMSNorm.apply(x.baseAddress!, rows: rows, width: D, weight: layer.mlpNorm, epsilon: c.normEpsilon,
                          into: h.baseAddress!)
            layer.gateUp.multiply(h.baseAddress!, blocks: count, blockRows: R, scratch: tiles.baseAddress!, into: gateUp.baseAddress!)
            SwiGLU.apply(gateUp.baseAddress!, rows: rows, width: F, into: activation.baseAddress!)
            layer.down.multiply(activation.baseAddress!, blocks: count, blockRows: R, scratch: tiles.baseAddress!, into: projected.baseAddress!)
            Self.addResidual(projected.baseAddress!, bias: layer.down.bias!, into: x.baseAddress!, rows: rows,
                             columns: D)
        }
        RMSNorm.apply(x.baseAddress!, rows: rows, width: D, weight: model.norm, epsilon: c.normEpsilon,
                      into: h.baseAddress!)
        let encoderDone = MonotonicClock.seconds()

        // Adapter: 4 consecutive positions stacked, [count · R/4, 4D] → [count · R/4, Dt].
        let tokenRows = R / c.stackFactor
        if kind == .adapter || capture != nil {
            model.adapter1.multiply(h.baseAddress!, blocks: count, blockRows: tokenRows, scratch: tiles.baseAddress!, into: hidden.baseAddress!)
            GELU.applyInPlace(hidden.baseAddress!, rows: count * tokenRows, columns: Dt, addingBias: nil)
            model.adapter2.multiply(hidden.baseAddress!, blocks: count, blockRows: tokenRows, scratch: tiles.baseAddress!, into: adapted.baseAddress!)
        }
        let adapterDone = MonotonicClock.seconds()

        // Rows of tokens emitFrom ..< tokens − first block's first token.
        let firstToken = first * tokenRows
        let from = max(0, emitFrom), to = min(count * tokenRows, tokens - firstToken)
        if from < to {
            let encoderRows = UnsafeBufferPointer(start: h.baseAddress! + from * c.stackFactor * D,
                                                  count: (to - from) * c.stackFactor * D)
            let adapterRows = UnsafeBufferPointer(start: adapted.baseAddress! + from * Dt, count: (to - from) * Dt)
            if capture != nil {
                capture!.encoder += encoderRows
                capture!.adapter += adapterRows
            }
            sink(kind == .adapter ? adapterRows : encoderRows)
        }
        return (encoderDone - start, adapterDone - encoderDone)
    }

    /// x[r, :] += b.
    private static func addBias(_ bias: [Float], to x: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        bias.withUnsafeBufferPointer { b in Linear.addRowVector(b.baseAddress!, to: x, rows: rows, columns: columns) }
    }

    /// x[r, :] += (y[r, :] + b): the residual connection after a Linear whose product is y (addmm's rounding: the
    /// bias onto the product first).
    private static func addResidual(_ y: UnsafeMutablePointer<Float>, bias: [Float], into x: UnsafeMutablePointer<Float>,
                                    rows: Int, columns: Int) {
        bias.withUnsafeBufferPointer { b in
            let b = b.baseAddress!
            for r in 0..<rows {
                let (yr, xr) = (y + r * columns, x + r * columns)
                for j in 0..<columns { xr[j] += yr[j] + b[j] }
            }
        }
    }
}
