// A Linear layer run as fixed-shape GEMM calls, for causal encoders that compute a stream in pieces: the rows come
// in blocks of a fixed count (aligned to the stream's start by the caller), the weight's columns in fixed panels.
// Every output element is therefore computed by a call of the same shape, at the same place in it, however the
// stream was cut into steps and whatever the thread count — streamed output equals offline output bit for bit by
// construction. (A caller that moves its blocks, so that a row sits at another place of its call, asks
// `keepsRowBits` first: not every GEMM gives each row of a call the same arithmetic.) Threads take whole panels and
// run every block through them, so a panel's weights stay in the core's cache across blocks (and one block still
// feeds every thread). A packed panel writes a dense tile that is then
// copied into its columns (with a strided destination oneDNN 2.6 falls back to its reference matmul, ≈ 100× slower).
// Reference: torch.nn.Linear (the product; the bias is the caller's, added to the rounded product as addmm does).
// Letters: R rows per block, K input width, N output width, Np panel width.

public struct PanelledLinear: Sendable {
    /// One panel's weights in the form its route needs.
    enum Panel: Sendable {
        /// sgemm on the panel's rows of W [Np, K].
        case blas([Float], FloatGEMM)
        /// oneDNN matmul on the panel packed once (float32 or bf16 operands).
        case packed(PackedMatrix)
    }

    /// Columns per panel: 128 floats of K = 1280 is 640 KB of float32, which stays in L2 while the blocks pass.
    public static let panelColumns = 128

    let panels: [Panel]
    /// First output column of each panel.
    let panelStarts: [Int]
    public let inputCount: Int
    public let outputCount: Int
    /// [N] or nil; applied by the caller (`addBias`).
    public let bias: [Float]?

    /// Splits `weights` [N, K] into panels of `panelColumns` (the last narrower) on `route`, packed for blocks of
    /// `blockRows` rows.
    public init(_ weights: LinearWeights, route: LinearRoute, blockRows: Int) throws(PrecisionError) {
        let n = weights.outputCount, k = weights.inputCount
        precondition(weights.weight.count == n * k, "PanelledLinear needs the float32 weight")
        var panels: [Panel] = [], starts: [Int] = []
        var start = 0
        while start < n {
            let width = min(Self.panelColumns, n - start)
            let slice = Array(weights.weight[(start * k)..<((start + width) * k)])
            switch route {
            case .blas(let gemm):
                panels.append(.blas(slice, gemm))
            case .packed(let operands):
                do {
                    let packed = try slice.withUnsafeBufferPointer { w throws(PackingError) in
                        try PackedMatrix(weight: w.baseAddress!, outputCount: width, inputCount: k, operands: operands,
                                         typicalRows: blockRows)
                    }
                    panels.append(.packed(packed))
                } catch { throw .packingFailed(error.description) }
            }
            starts.append(start)
            start += width
        }
        self.panels = panels
        panelStarts = starts
        inputCount = k
        outputCount = n
        bias = weights.bias
    }

    /// Scratch floats `multiply` needs on `threads` threads for blocks of `blockRows` rows: one dense [R, Np] tile
    /// per worker (oneDNN's optimised matmul kernels want a dense destination; a panel's columns of the output are
    /// strided, which would send it to its reference implementation).
    public static func scratchCount(threads: Int, blockRows: Int) -> Int { max(1, threads) * blockRows * panelColumns }

    /// Whether `multiply` needs `rounded` scratch: bf16 panels take their input rounded once for all panels.
    public var roundsInput: Bool {
        if case .packed(let packed) = panels.first, packed.operands == .bfloat16 { return true }
        return false
    }

    /// output[b·R ..< (b+1)·R, :] = input[b·R ..< (b+1)·R, :] · Wᵀ for every block b < `blocks` (no bias). Each
    /// (block, panel) product is one call of shape [R, K] × [K, Np]. Worker w takes panels w, w + workers, …
    /// `scratch`: `scratchCount(threads:blockRows:)` floats for the call's thread budget; `rounded`: room for the
    /// input in bf16 (blocks·R·K) when `roundsInput` (each value is rounded once here, not once per panel — the bits
    /// the panel's own rounding gives). Cost: 2·blocks·R·N·K flops.
    public func multiply(_ input: UnsafePointer<Float>, blocks: Int, blockRows r: Int,
                         scratch: UnsafeMutablePointer<Float>, rounded: UnsafeMutableBufferPointer<UInt16>,
                         into output: UnsafeMutablePointer<Float>) {
        let (k, n) = (inputCount, outputCount)
        if roundsInput {
            precondition(rounded.count >= blocks * r * k, "rounded scratch too small for [\(blocks * r), \(k)]")
            let pointers = UncheckedSendable((input, rounded.baseAddress!))
            Parallel.forEachRange(blocks * r, minimumPerThread: 8) { rows in
                let (input, rounded) = pointers.value
                BFloat16GEMM.round(input + rows.lowerBound * k, rows: rows.count, columns: k, ldx: k,
                                   into: rounded + rows.lowerBound * k, ldy: k)
            }
        }
        let pointers = UncheckedSendable((input, output, scratch, UnsafePointer(rounded.baseAddress)))
        let workers = max(1, min(Parallel.threadCount, panels.count))
        Parallel.forEachRange(workers) { range in
            let (input, output, scratch, rounded) = pointers.value
            for worker in range {
                let tile = scratch + worker * r * Self.panelColumns
                for p in Swift.stride(from: worker, to: panels.count, by: workers) {
                    let column = panelStarts[p]
                    for b in 0..<blocks {
                        let a = input + b * r * k, c = output + b * r * n + column
                        switch panels[p] {
                        case .blas(let weight, let gemm):
                            let width = weight.count / k
                            weight.withUnsafeBufferPointer { w in
                                gemm.multiplyTransposed(a, w.baseAddress!, into: c, m: r, n: width, k: k, lda: k,
                                                        ldb: k, ldc: n)
                            }
                        case .packed(let packed):
                            let width = packed.outputCount
                            if packed.operands == .bfloat16 {
                                packed.multiplyRounded(rounded! + b * r * k, rows: r, into: tile, ldc: width)
                            } else {
                                packed.multiply(a, rows: r, lda: k, into: tile, ldc: width)
                            }
                            for row in 0..<r { (c + row * n).update(from: tile + row * width, count: width) }
                        }
                    }
                }
            }
        }
    }

    /// Whether a row's product has the same bits at every place of a block of `blockRows` rows that is `shifts`
    /// rows apart (so that a caller may move its blocks by those shifts and keep the bits). Computed, not assumed: a
    /// GEMM may give the last rows of a call to another kernel (OpenBLAS sgemm does), whose sums round otherwise.
    /// Runs 1 + shifts.count blocks through every panel on seeded inputs, once; allocates for it.
    public func keepsRowBits(blockRows r: Int, shifts: [Int]) -> Bool {
        let k = inputCount, n = outputCount, extra = shifts.max() ?? 0
        var input = [Float](repeating: 0, count: (r + extra) * k)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for i in input.indices {  // seeded values in [-1, 1), wide exponents as activations have
            state = state &* 6364136223846793005 &+ 1442695040888963407
            input[i] = (Float(state >> 40) / Float(1 << 24) * 2 - 1) * Float(1 << (i % 7))
        }
        var scratch = [Float](repeating: 0, count: Self.scratchCount(threads: Parallel.threadCount, blockRows: r))
        var rounded = [UInt16](repeating: 0, count: r * k)
        func product(from row: Int) -> [Float] {
            var out = [Float](repeating: 0, count: r * n)
            input.withUnsafeBufferPointer { x in
                scratch.withUnsafeMutableBufferPointer { s in
                    rounded.withUnsafeMutableBufferPointer { b in
                        multiply(x.baseAddress! + row * k, blocks: 1, blockRows: r, scratch: s.baseAddress!, rounded: b,
                                 into: &out)
                    }
                }
            }
            return out
        }
        let base = product(from: 0)
        for shift in shifts where shift > 0 && shift < r {
            // Row i of the shifted block is row shift + i of the first, computed at place i instead of shift + i.
            let moved = product(from: shift)
            if Array(moved[0..<((r - shift) * n)]) != Array(base[(shift * n)..<(r * n)]) { return false }
        }
        return true
    }

    /// Bytes of weights held (packed or float32).
    public var byteCount: Int {
        panels.reduce(0) { total, panel in
            switch panel {
            case .blas(let w, _): return total + 4 * w.count
            case .packed(let p): return total + p.byteCount
            }
        }
    }
}
