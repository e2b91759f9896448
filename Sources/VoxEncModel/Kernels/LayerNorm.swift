// LayerNorm over rows. The loop is C (CVoxEncKernels, voxenc_kernels.h), one copy per instruction set chosen at run
// time (ElementwiseKernels.instructionSet); rows are split across threads here.
// Reference: nn.LayerNorm.

import CVoxEncKernels

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
