// The Realtime encoder's computation: runs of up to 8 blocks, taken from one stream or from several, through the
// conv stem, the layers and the adapter. Every GEMM is a PanelledLinear call per (block, panel), every norm and
// activation works row by row, and attention reads each block's own stream's ring: a block's rows are the same
// whichever blocks (of its stream or of others) share its run — streams served together get the bits they get alone.
// Reference: transformers VoxtralRealtimeEncoder.forward with its padding cache and sliding-window KV cache, and
// get_audio_features' adapter (modeling_voxtral_realtime.py, 5.25):
//   conv1 (k3, s1, causal: 2 zero frames on the left) → GELU → conv2 (k3, s2, causal: 1 zero frame) → GELU
//   → per layer: x += o(attn(RMSNorm(x))) (RoPE on q, k; causal window W); x += down(silu(gate(h)) · up(h)),
//     h = RMSNorm(x) → RMSNorm → (encoder rows) → 4 rows stacked → linear_1 → GELU → linear_2 (adapter rows).
// A block computed before all its tokens arrived is computed again from its start once they have; its finished rows
// come out the same. Nothing is allocated per run once the model's workspaces exist.
// Letters: R = 24 positions per block, B blocks per run, D, A, F, M, Dt, W as in RealtimeModel.swift.

import Synchronization

/// Work buffers for one run of up to `maxBlocks` blocks on `threads` threads.
final class RealtimeWorkspace {
    static let maxBlocks = 8

    let threads: Int
    let columns1, conv1Out, columns2, x, h, qkv, attention, projected, gateUp, activation, hidden, adapted, scores,
        tiles, angles: UnsafeMutableBufferPointer<Float>
    /// A GEMM's input rounded to bf16 once for all its panels (bf16 layers), as large as the widest input of a run.
    let rounded: UnsafeMutableBufferPointer<UInt16>

    init(_ c: RealtimeConfiguration, threads: Int) {
        self.threads = threads
        let counts = Self.floatCounts(c, threads: threads)
        func buffer(_ count: Int) -> UnsafeMutableBufferPointer<Float> {
            let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, count))
            b.initialize(repeating: 0)
            return b
        }
        (columns1, conv1Out, columns2, x, h) = (buffer(counts[0]), buffer(counts[1]), buffer(counts[2]),
                                                buffer(counts[3]), buffer(counts[4]))
        (qkv, attention, projected, gateUp, activation) = (buffer(counts[5]), buffer(counts[6]), buffer(counts[7]),
                                                           buffer(counts[8]), buffer(counts[9]))
        (hidden, adapted, scores, tiles, angles) = (buffer(counts[10]), buffer(counts[11]), buffer(counts[12]),
                                                    buffer(counts[13]), buffer(counts[14]))
        rounded = .allocate(capacity: Self.roundedCount(c))  // written before it is read, so untouched until then
    }

    /// Values of the largest GEMM input of a run of maxBlocks blocks: the conv stem's columns, a layer's four
    /// inputs (D, A, D, F wide) and the adapter's stacked rows.
    private static func roundedCount(_ c: RealtimeConfiguration) -> Int {
        let (R, F1) = (RealtimeModel.blockPositions, RealtimeModel.convFramesPerBlock)
        let widest = [F1 * 3 * c.melBinCount, R * 3 * c.modelDimension, R * c.modelDimension, R * c.attentionWidth,
                      R * c.feedForwardDimension, R / c.stackFactor * c.stackFactor * c.modelDimension,
                      R / c.stackFactor * c.adapterDimension].max()!
        return maxBlocks * widest
    }

    /// Floats of each buffer, in the order of the properties.
    private static func floatCounts(_ c: RealtimeConfiguration, threads: Int) -> [Int] {
        let (D, A, F, M, Dt) = (c.modelDimension, c.attentionWidth, c.feedForwardDimension, c.melBinCount,
                                c.adapterDimension)
        let r = RealtimeModel.blockPositions * maxBlocks
        let frames = RealtimeModel.convFramesPerBlock * maxBlocks
        return [frames * 3 * M, frames * D, r * 3 * D, r * D, r * D,
                r * 3 * A, r * A, r * D, r * 2 * F, r * F,
                r / c.stackFactor * Dt, r / c.stackFactor * Dt,
                threads * SlidingWindowAttention.scratchCount(window: c.slidingWindow),
                PanelledLinear.scratchCount(threads: threads, blockRows: RealtimeModel.convFramesPerBlock),
                r * c.headDimension]  // angles: cos | sin [Dh / 2] per position of a run
    }

    /// Bytes of one workspace.
    static func byteCount(_ c: RealtimeConfiguration, threads: Int) -> Int {
        4 * floatCounts(c, threads: threads).reduce(0, +) + 2 * roundedCount(c)
    }

    deinit {
        for b in [columns1, conv1Out, columns2, x, h, qkv, attention, projected, gateUp, activation, hidden, adapted,
                  scores, tiles, angles] { b.deallocate() }
        rounded.deallocate()
    }
}

/// The workspaces of a model's runs under way, kept for the next ones.
final class RealtimeWorkspaces: Sendable {
    private let idle = Mutex<[UncheckedSendable<RealtimeWorkspace>]>([])

    /// Runs `body` with a workspace for `threads` threads, reused when one is idle.
    func with<T>(_ c: RealtimeConfiguration, threads: Int, _ body: (RealtimeWorkspace) -> T) -> T {
        let found = idle.withLock { idle -> RealtimeWorkspace? in
            guard let i = idle.firstIndex(where: { $0.value.threads >= threads }) else { return nil }
            return idle.remove(at: i).value
        }
        let workspace = found ?? RealtimeWorkspace(c, threads: threads)
        defer { idle.withLock { $0.append(UncheckedSendable(workspace)) } }
        return body(workspace)
    }
}

extension RealtimeModel {
    /// One block of one stream in a run: positions first ..< first + 24 computed (zeros past the stream's `tokens`
    /// tokens), of which first ..< end are the block's (a block before the stream's origin may end early); its rows
    /// of tokens `emitFrom` ..< end / 4 go to request `request`'s sink.
    struct BlockJob {
        let stream: RealtimeStreamState
        let first: Int
        let end: Int
        let tokens: Int
        let emitFrom: Int
        let request: Int
    }

    public func encodePending(_ requests: [CausalEncodeRequest], threads: Int) -> [(encoder: Double, adapter: Double)] {
        var seconds = [(encoder: Double, adapter: Double)](repeating: (0, 0), count: requests.count)
        let S = configuration.stackFactor
        var jobs: [BlockJob] = []
        var reached: [(stream: RealtimeStreamState, target: Int)] = []
        for (i, request) in requests.enumerated() {
            guard let stream = request.stream as? RealtimeStreamState, stream.model === self else {
                preconditionFailure("a stream of another model")
            }
            let target = min(stream.tokensAppended, request.end ?? stream.tokensAppended)
            reached.append((stream, target))
            // The shared prefix's rows, as far as the stream has reached.
            if let prefix = stream.prefix, stream.tokensEncoded < min(prefix.tokens, target) {
                let rows = stream.kind == .adapter ? prefix.adapterRows : prefix.encoderRows
                let geometry = output(stream.kind)
                let width = geometry.width * geometry.rowsPerStep
                let end = min(prefix.tokens, target)
                rows.withUnsafeBufferPointer { all in
                    request.sink(UnsafeBufferPointer(rebasing: all[(stream.tokensEncoded * width)..<(end * width)]))
                }
                stream.tokensEncoded = end
            }
            guard target > stream.tokensComputed else { continue }
            var first = stream.blockStart(containing: stream.tokensComputed * S)
            while first < target * S {
                let end = stream.blockEnd(from: first)
                jobs.append(BlockJob(stream: stream, first: first, end: end, tokens: target,
                                     emitFrom: max(stream.tokensComputed, first / S), request: i))
                first = end
            }
        }
        if !jobs.isEmpty {
            workspaces.with(configuration, threads: max(1, threads)) { workspace in
                Parallel.withThreads(max(1, threads)) {
                    // Runs of up to maxBlocks blocks in order: a stream's blocks keep their order across runs.
                    var start = 0
                    while start < jobs.count {
                        let run = jobs[start..<min(jobs.count, start + RealtimeWorkspace.maxBlocks)]
                        let spent = self.run(run, in: workspace, requests: requests)
                        for i in Set(run.map(\.request)) {
                            seconds[i].encoder += spent.encoder
                            seconds[i].adapter += spent.adapter
                        }
                        start += run.count
                    }
                }
            }
        }
        for (stream, target) in reached where target > stream.tokensComputed {
            stream.tokensComputed = target
            stream.tokensEncoded = target
            stream.dropMel(before: target)
        }
        return seconds
    }

    /// The blocks of `jobs` (at most maxBlocks), their rows handed to their requests' sinks.
    private func run(_ jobs: ArraySlice<BlockJob>, in w: RealtimeWorkspace, requests: [CausalEncodeRequest])
        -> (encoder: Double, adapter: Double) {
        let start = MonotonicClock.seconds()
        let c = configuration
        let R = Self.blockPositions, F1 = Self.convFramesPerBlock
        let (D, A, M, Dt) = (c.modelDimension, c.attentionWidth, c.melBinCount, c.adapterDimension)
        let F = c.feedForwardDimension
        let count = jobs.count, rows = count * R

        // Stem. conv1 frame f reads mel f − 2, f − 1, f (zeros before 0: the causal left pad; frames not yet here are
        // zeros too, for rows that are computed again later). Block at p0 needs conv1 frames 2·p0 − 1 ... 2·p0 + 2R − 1.
        for (i, job) in jobs.enumerated() {
            let p0 = job.first
            let melFrames = job.tokens * RealtimeConfiguration.melFramesPerToken
            for r in 0..<F1 {
                let f = 2 * p0 - 1 + r
                let row = w.columns1.baseAddress! + (i * F1 + r) * 3 * M
                for k in 0..<3 {
                    let source = f - 2 + k
                    if source >= 0 && source < melFrames {
                        job.stream.melFrame(source, into: row + k * M)
                    } else {
                        (row + k * M).update(repeating: 0, count: M)
                    }
                }
            }
        }
        conv1.multiply(w.columns1.baseAddress!, blocks: count, blockRows: F1, scratch: w.tiles.baseAddress!,
                       rounded: w.rounded, into: w.conv1Out.baseAddress!)
        conv1.bias!.withUnsafeBufferPointer { b in
            GELU.applyInPlace(w.conv1Out.baseAddress!, rows: count * F1, columns: D, addingBias: b.baseAddress!)
        }
        for (i, job) in jobs.enumerated() where job.first == 0 {  // conv1 frame −1: conv2's left pad
            (w.conv1Out.baseAddress! + i * F1 * D).update(repeating: 0, count: D)
        }
        for i in 0..<count {
            for r in 0..<R {  // position p0 + r reads conv1 frames 2r, 2r + 1, 2r + 2 of its block
                (w.columns2.baseAddress! + (i * R + r) * 3 * D)
                    .update(from: w.conv1Out.baseAddress! + (i * F1 + 2 * r) * D, count: 3 * D)
            }
        }
        conv2.multiply(w.columns2.baseAddress!, blocks: count, blockRows: R, scratch: w.tiles.baseAddress!,
                       rounded: w.rounded, into: w.x.baseAddress!)
        conv2.bias!.withUnsafeBufferPointer { b in
            GELU.applyInPlace(w.x.baseAddress!, rows: rows, columns: D, addingBias: b.baseAddress!)
        }

        // Layers.
        let scale = 1 / Float(c.headDimension).squareRoot()
        let half = c.headDimension / 2
        // cos | sin of each position of the run, once for every layer.
        for (i, job) in jobs.enumerated() {
            for r in 0..<R {
                let at = w.angles.baseAddress! + (i * R + r) * 2 * half
                rope.angles(position: job.first + r, cos: at, sin: at + half)
            }
        }
        for (l, layer) in layers.enumerated() {
            RMSNorm.apply(w.x.baseAddress!, rows: rows, width: D, weight: layer.attentionNorm, epsilon: c.normEpsilon,
                          into: w.h.baseAddress!)
            layer.qkv.multiply(w.h.baseAddress!, blocks: count, blockRows: R, scratch: w.tiles.baseAddress!,
                               rounded: w.rounded, into: w.qkv.baseAddress!)
            Self.addBias(layer.qkv.bias!, to: w.qkv.baseAddress!, rows: rows, columns: 3 * A)
            for (i, job) in jobs.enumerated() {
                let p0 = job.first
                let valid = min(job.end, job.tokens * c.stackFactor) - p0  // the block's positions with all their input
                let base = w.qkv.baseAddress! + i * R * 3 * A
                for r in 0..<valid {
                    let row = base + r * 3 * A
                    let at = w.angles.baseAddress! + (i * R + r) * 2 * half
                    rope.rotate(row, heads: c.headCount, cos: at, sin: at + half)
                    rope.rotate(row + A, heads: c.headCount, cos: at, sin: at + half)
                    for j in 0..<A { row[j] *= scale }
                }
                let ring = job.stream.rings.ring(l)
                ring.store(k: base + A, v: base + 2 * A, stride: 3 * A, rows: valid, firstPosition: p0)
                let out = w.attention.baseAddress! + i * R * A
                SlidingWindowAttention.apply(q: base, stride: 3 * A, rows: valid, firstPosition: p0,
                                             window: c.slidingWindow, ring: ring, scratch: w.scores.baseAddress!,
                                             into: out)
                if valid < R { (out + valid * A).update(repeating: 0, count: (R - valid) * A) }
            }
            layer.output.multiply(w.attention.baseAddress!, blocks: count, blockRows: R, scratch: w.tiles.baseAddress!,
                                  rounded: w.rounded, into: w.projected.baseAddress!)
            Self.addResidual(w.projected.baseAddress!, bias: layer.output.bias!, into: w.x.baseAddress!, rows: rows,
                             columns: D)
            RMSNorm.apply(w.x.baseAddress!, rows: rows, width: D, weight: layer.mlpNorm, epsilon: c.normEpsilon,
                          into: w.h.baseAddress!)
            layer.gateUp.multiply(w.h.baseAddress!, blocks: count, blockRows: R, scratch: w.tiles.baseAddress!,
                                  rounded: w.rounded, into: w.gateUp.baseAddress!)
            SwiGLU.apply(w.gateUp.baseAddress!, rows: rows, width: F, into: w.activation.baseAddress!)
            layer.down.multiply(w.activation.baseAddress!, blocks: count, blockRows: R, scratch: w.tiles.baseAddress!,
                                rounded: w.rounded, into: w.projected.baseAddress!)
            Self.addResidual(w.projected.baseAddress!, bias: layer.down.bias!, into: w.x.baseAddress!, rows: rows,
                             columns: D)
        }
        RMSNorm.apply(w.x.baseAddress!, rows: rows, width: D, weight: norm, epsilon: c.normEpsilon,
                      into: w.h.baseAddress!)
        let encoderDone = MonotonicClock.seconds()

        // Adapter: 4 consecutive positions stacked, [count · R/4, 4D] → [count · R/4, Dt].
        let tokenRows = R / c.stackFactor
        if jobs.contains(where: { $0.stream.kind == .adapter || $0.stream.capture != nil }) {
            adapter1.multiply(w.h.baseAddress!, blocks: count, blockRows: tokenRows, scratch: w.tiles.baseAddress!,
                              rounded: w.rounded, into: w.hidden.baseAddress!)
            GELU.applyInPlace(w.hidden.baseAddress!, rows: count * tokenRows, columns: Dt, addingBias: nil)
            adapter2.multiply(w.hidden.baseAddress!, blocks: count, blockRows: tokenRows, scratch: w.tiles.baseAddress!,
                              rounded: w.rounded, into: w.adapted.baseAddress!)
        }
        let adapterDone = MonotonicClock.seconds()

        // Each block's rows of tokens emitFrom ..< its end or the stream's tokens (relative to the block's first).
        for (i, job) in jobs.enumerated() {
            let t0 = job.first / c.stackFactor
            let from = job.emitFrom - t0, to = min(job.end / c.stackFactor, job.tokens) - t0
            guard from < to else { continue }
            let first = i * tokenRows
            let encoderRows = UnsafeBufferPointer(start: w.h.baseAddress! + (first + from) * c.stackFactor * D,
                                                  count: (to - from) * c.stackFactor * D)
            let adapterRows = UnsafeBufferPointer(start: w.adapted.baseAddress! + (first + from) * Dt,
                                                  count: (to - from) * Dt)
            if job.stream.capture != nil {
                job.stream.capture!.encoder += encoderRows
                job.stream.capture!.adapter += adapterRows
            }
            requests[job.request].sink(job.stream.kind == .adapter ? adapterRows : encoderRows)
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
