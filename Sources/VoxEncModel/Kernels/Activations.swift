// Element-wise kernels: exact-erf GELU, LayerNorm, softmax. The loops are C (CVoxEncKernels, voxenc_kernels.h), one
// copy per instruction set chosen at run time (ElementwiseKernels.instructionSet); rows are split across threads here.
// References: transformers ACT2FN["gelu"] = nn.functional.gelu (approximate="none"); nn.LayerNorm; torch softmax.

import CVoxEncKernels

public enum GELU {
    /// x ← x · ½ · (1 + erf(x / √2)) in place over `count` values (PyTorch's CPU GeluKernel, approximate="none"):
    /// PyTorch's vectorised erf on blocks of 16, libm erff on the last count mod 16 (voxenc_gelu).
    public static func applyInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let lanes = 16  // threads split on whole blocks, so each value takes the path a serial call gives it
        let vectorCount = count / lanes
        Parallel.forEachRange(vectorCount, minimumPerThread: 4096) { range in
            voxenc_gelu(x + range.lowerBound * lanes, range.count * lanes)
        }
        voxenc_gelu(x + vectorCount * lanes, count - vectorCount * lanes)
    }

    /// x[r, :] ← GELU(x[r, :] + b) over [rows, columns]: a Linear layer's bias fused with its activation (one pass
    /// over the fc1 output instead of two). The sum is rounded to float32 first, as addmm then gelu do.
    /// A nil bias is GELU alone.
    public static func applyInPlace(_ x: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
                                    addingBias bias: UnsafePointer<Float>?) {
        guard let bias else { return applyInPlace(x, count: rows * columns) }
        Parallel.forEachRange(rows, minimumPerThread: 16) { range in
            voxenc_gelu_bias_rows(x + range.lowerBound * columns, range.count, columns, bias)
        }
    }
}

public enum LayerNorm {
    /// output[r, :] = (x[r, :] − mean) / sqrt(var + eps) · γ + β for each of `rows` rows of width D.
    /// Two passes (mean, then squared deviations: no cancellation when |mean| ≫ std) in 16 float32 lanes, the lanes
    /// summed in float64; the mean kept as a float32 pair; the biased variance, as nn.LayerNorm
    /// (voxenc_layer_norm_rows). In-place (output == input) is allowed.
    public static func apply(_ input: UnsafePointer<Float>, rows: Int, width: Int, weights: LayerNormWeights,
                             epsilon: Float, into output: UnsafeMutablePointer<Float>) {
        weights.weight.withUnsafeBufferPointer { gamma in
            weights.bias.withUnsafeBufferPointer { beta in
                let gamma = gamma.baseAddress!, beta = beta.baseAddress!
                Parallel.forEachRange(rows, minimumPerThread: 32) { range in
                    voxenc_layer_norm_rows(input + range.lowerBound * width, range.count, width, gamma, beta, epsilon,
                                           output + range.lowerBound * width)
                }
            }
        }
    }
}

public enum Softmax {
    /// x ← exp(x − max(x)) in place; returns Σ exp(x − max), the softmax's denominator, which the caller applies
    /// (attention divides its [R, Dh] output instead of the [R, T] probabilities). Cephes expf; sums in 8 lanes
    /// (voxenc_softmax_exponentiate_row).
    @inline(__always)
    public static func exponentiateRow(_ row: UnsafeMutablePointer<Float>, width: Int) -> Float {
        voxenc_softmax_exponentiate_row(row, width)
    }

    /// The same pass with the exponentials rounded to bf16 into `rounded` [width] (which may alias `row`) instead
    /// of written back; the same sum. One pass for bf16 attention's probabilities.
    @inline(__always)
    public static func exponentiateRow(_ row: UnsafeMutablePointer<Float>, width: Int,
                                       roundingInto rounded: UnsafeMutablePointer<UInt16>) -> Float {
        voxenc_softmax_exponentiate_row_bf16(row, width, rounded)
    }
}
