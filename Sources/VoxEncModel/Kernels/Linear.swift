// A Linear layer, y = x·Wᵀ + b, as fixed row blocks of one float32 GEMM backend (FloatGEMM, chosen by GEMMRouting).
// Reference: torch.nn.Linear (addmm: the product, then the bias added to the rounded product).

public enum Linear {
    /// output[T, out] = input[T, in] · Wᵀ (+ b), or output += … when `accumulate` (residual connections).
    /// `rowsPerChunk` says how the T rows make chunks (1500 for encoder states, 375 for the adapter): the GEMM runs
    /// in the chunk-relative blocks of `RowBlocks`, so a chunk's rows never depend on its batch or the threads.
    /// `addingBias: false` leaves the bias to the caller's next pass (fused with GELU or the q scaling).
    /// Cost: 2·T·out·in flops.
    public static func apply(_ weights: LinearWeights, gemm: FloatGEMM, input: UnsafePointer<Float>, rows: Int,
                             rowsPerChunk: Int, into output: UnsafeMutablePointer<Float>, accumulate: Bool = false,
                             addingBias: Bool = true) {
        precondition(weights.weight.count == weights.outputCount * weights.inputCount,
                     "weight released (an int8 layer runs through QuantisedLinear)")
        weights.weight.withUnsafeBufferPointer { w in
            gemm.multiplyTransposedInBlocks(input, w.baseAddress!, into: output,
                                            blocks: RowBlocks(rows: rows, rowsPerChunk: rowsPerChunk),
                                            n: weights.outputCount, k: weights.inputCount, beta: accumulate ? 1 : 0)
        }
        if addingBias, let bias = weights.bias {
            bias.withUnsafeBufferPointer { b in
                addRowVector(b.baseAddress!, to: output, rows: rows, columns: weights.outputCount)
            }
        }
    }

    /// x[r, :] += v for every row.
    @inline(__always)
    public static func addRowVector(_ vector: UnsafePointer<Float>, to x: UnsafeMutablePointer<Float>, rows: Int,
                             columns: Int) {
        Parallel.forEachRange(rows, minimumPerThread: 64) { range in
            for r in range {
                let row = x + r * columns
                for c in 0..<columns { row[c] += vector[c] }
            }
        }
    }
}
