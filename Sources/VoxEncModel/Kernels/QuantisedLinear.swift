// A Linear layer in int8 (docs/precision.md): quantise each input row to u8 (RowQuantisation), multiply by the s8
// weights in int32 (IntegerGEMM, oneDNN), dequantise in float32:
//   y[i, j] = a[i] · s[j] · (C[i, j] − z[i] · Σ_k q[j, k]) + b[j]      (C = u · qᵀ; the zero point removed in int32)
// a[i], z[i] the row's scale and zero point, s[j] the weight's per-channel scale. Rows are split over the thread budget in blocks of 16;
// each block is quantised, multiplied and dequantised by one thread, so it stays in that core's cache.
// Letters: T rows, K input width, N output width.

import CVoxEncKernels

public enum QuantisedLinear {
    /// output[T, N] = dequantise(quantise(input[T, K]) · qᵀ) + b, or output += … when `accumulate` (residuals);
    /// `gelu` applies GELU to each output row while it is in cache (fc1: one pass over [T, F] fewer).
    /// `input` is packed [T, K]; `scratch` must fit T × K → N. Cost: T·N·K integer multiply-adds.
    public static func apply(_ weights: QuantisedLinearWeights, input: UnsafePointer<Float>, rows: Int,
                             scratch: QuantisationScratch, into output: UnsafeMutablePointer<Float>,
                             accumulate: Bool = false, gelu: Bool = false) {
        let k = weights.inputCount, n = weights.outputCount
        precondition(scratch.fits(rows: rows, inputWidth: k, outputWidth: n), "quantisation scratch too small")
        let codes = scratch.activations, products = scratch.accumulators
        let rowScales = scratch.rowScales, rowZeroPoints = scratch.rowZeroPoints
        weights.weight.withUnsafeBufferPointer { q in
            weights.scales.withUnsafeBufferPointer { scales in
                weights.sums.withUnsafeBufferPointer { columnSums in
                    weights.bias.withUnsafePointer { bias in
                        let tiles = (rows + 15) / 16
                        Parallel.forEachRange(tiles, minimumPerThread: 8) { range in
                            let first = range.lowerBound * 16, last = min(rows, range.upperBound * 16)
                            for r in first..<last {
                                (rowScales[r], rowZeroPoints[r]) = RowQuantisation.quantise(input + r * k, width: k,
                                                                                            into: codes + r * k)
                            }
                            if let packed = weights.packed {
                                packed.multiplyIntegers(codes + first * k, rows: last - first, lda: k,
                                                        into: products + first * n, ldc: n)
                            } else {
                                IntegerGEMM.multiplyTransposed(codes + first * k, q.baseAddress!,
                                                               into: products + first * n, m: last - first, n: n, k: k,
                                                               lda: k, ldb: k, ldc: n)
                            }
                            for r in first..<last {
                                dequantiseRow(products + r * n, rowScale: rowScales[r], zeroPoint: rowZeroPoints[r],
                                              columnScales: scales.baseAddress!, columnSums: columnSums.baseAddress!,
                                              bias: bias, width: n, into: output + r * n, accumulate: accumulate,
                                              gelu: gelu)
                            }
                        }
                    }
                }
            }
        }
    }

    /// y[j] (+)= Float(C[j] − z · Σq[j]) · (a · s[j]) + b[j] for one row of width N, then GELU when `gelu`
    /// (voxenc_dequantise_row: blocks of 16 vectorised, the last N mod 16 scalar).
    @inline(__always)
    static func dequantiseRow(_ c: UnsafePointer<Int32>, rowScale: Float, zeroPoint shift: Int32,
                              columnScales: UnsafePointer<Float>,
                              columnSums: UnsafePointer<Int32>, bias: UnsafePointer<Float>?, width: Int,
                              into y: UnsafeMutablePointer<Float>, accumulate: Bool, gelu: Bool) {
        voxenc_dequantise_row(c, rowScale, shift, columnScales, columnSums, bias, width, y, accumulate, gelu)
    }
}
