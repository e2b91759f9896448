// One Linear layer as the encoder and adapter run it: its weights in the form its precision and GEMM backend need,
// decided once when the encoder is made (LinearKernel.make). The layer loop calls `apply` and never branches on
// precision, so adding a precision touches this file, GEMMRouting and the configuration, not the loop.
// Reference: torch.nn.Linear — the product, then the bias added to the rounded product (addmm's order).
// Letters: T rows, K input width, N output width.

public enum LinearKernel: Sendable {
    /// float32 sgemm (OpenBLAS or oneDNN dnnl_sgemm) on the [N, K] weights as loaded.
    case blas(LinearWeights, FloatGEMM)
    /// oneDNN's matmul primitive on weights packed once, float32 or bf16 operands; the bias [N] kept aside.
    case packed(PackedMatrix, bias: [Float]?)
    /// u8 × s8 in int32, dequantised in float32 with the bias (and GELU) in the epilogue (QuantisedLinear).
    case int8(QuantisedLinearWeights)

    /// The kernel for one float32 or bf16 layer, as `route` says (int8 kernels are made from QuantisedLinearWeights).
    static func make(_ weights: LinearWeights, route: LinearRoute) throws(PackingError) -> LinearKernel {
        switch route {
        case .blas(let gemm):
            return .blas(weights, gemm)
        case .packed(let operands):
            let packed = try weights.weight.withUnsafeBufferPointer { w throws(PackingError) in
                try PackedMatrix(weight: w.baseAddress!, outputCount: weights.outputCount,
                                 inputCount: weights.inputCount, operands: operands)
            }
            return .packed(packed, bias: weights.bias)
        }
    }

    public var outputCount: Int {
        switch self {
        case .blas(let w, _): return w.outputCount
        case .packed(let p, _): return p.outputCount
        case .int8(let q): return q.outputCount
        }
    }

    /// Whether `apply` adds the bias itself even when asked to defer it (int8's epilogue always does).
    public var alwaysAddsBias: Bool {
        if case .int8 = self { return true }
        return false
    }

    /// Whether the float32 weight matrix is still needed after `make` (only the BLAS route reads it).
    var readsFloatWeights: Bool {
        if case .blas = self { return true }
        return false
    }

    /// output[T, N] = input[T, K] · Wᵀ + b, or output += … when `accumulate` (residual connections).
    /// `rowsPerChunk`: the GEMMs run in chunk-relative RowBlocks, so a chunk's rows never depend on its batch or the
    /// threads. `gelu`: GELU(x·Wᵀ + b) in the same pass as the bias. `deferringBias`: leave the bias to the caller's
    /// next pass (int8 adds it in its epilogue regardless: `alwaysAddsBias`). `scratch`: int8's buffers.
    public func apply(input: UnsafePointer<Float>, rows: Int, rowsPerChunk: Int,
                      scratch: QuantisationScratch? = nil, into output: UnsafeMutablePointer<Float>,
                      accumulate: Bool = false, gelu: Bool = false, deferringBias: Bool = false) {
        let bias: [Float]?
        switch self {
        case .int8(let quantised):
            precondition(scratch != nil, "an int8 layer needs a quantisation scratch")
            QuantisedLinear.apply(quantised, input: input, rows: rows, scratch: scratch!, into: output,
                                  accumulate: accumulate, gelu: gelu)
            return
        case .blas(let weights, let gemm):
            Linear.apply(weights, gemm: gemm, input: input, rows: rows, rowsPerChunk: rowsPerChunk, into: output,
                         accumulate: accumulate, addingBias: false)
            bias = weights.bias
        case .packed(let packed, let b):
            packed.multiplyInBlocks(input, blocks: RowBlocks(rows: rows, rowsPerChunk: rowsPerChunk), into: output,
                                    accumulate: accumulate)
            bias = b
        }
        if gelu {
            bias.withUnsafePointer { bias in
                GELU.applyInPlace(output, rows: rows, columns: outputCount, addingBias: bias)
            }
        } else if !deferringBias, let bias {
            bias.withUnsafeBufferPointer { b in
                Linear.addRowVector(b.baseAddress!, to: output, rows: rows, columns: outputCount)
            }
        }
    }
}

/// How a non-int8 Linear layer runs (GEMMRouting decides): sgemm on the loaded weights, or oneDNN's matmul on
/// weights packed once.
public enum LinearRoute: Sendable, Equatable {
    case blas(FloatGEMM)
    case packed(PackedOperands)
}
