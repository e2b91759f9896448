// Each instruction set's copy of the C element-wise kernels (CVoxEncKernels), called directly rather than through
// the dispatch, so the tests cover every path the CPU can run, not only the one this process picked.

import CVoxEncKernels

/// One ISA's copy of the kernels; `isSupported` is false where this CPU (or its OS) cannot run it.
public struct KernelPath: Sendable, CustomStringConvertible {
    public let name: String
    public let isSupported: Bool
    public let gelu: @Sendable (UnsafeMutablePointer<Float>?, Int) -> Void
    public let geluBiasRows: @Sendable (UnsafeMutablePointer<Float>?, Int, Int, UnsafePointer<Float>?) -> Void
    public let dequantiseRow: @Sendable (UnsafePointer<Int32>?, Float, Int32, UnsafePointer<Float>?, UnsafePointer<Int32>?,
                                         UnsafePointer<Float>?, Int, UnsafeMutablePointer<Float>?, Bool, Bool) -> Void
    public let softmaxRow: @Sendable (UnsafeMutablePointer<Float>?, Int) -> Float
    public let layerNormRows: @Sendable (UnsafePointer<Float>?, Int, Int, UnsafePointer<Float>?, UnsafePointer<Float>?,
                                         Float, UnsafeMutablePointer<Float>?) -> Void
    public let log10: @Sendable (UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int) -> Void
    public let exp: @Sendable (UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int) -> Void
    public let log10MelBlock: @Sendable (UnsafePointer<Double>?, Int, UnsafePointer<Float>?, UnsafePointer<Int>?,
                                         UnsafePointer<Int>?, Int, Float, UnsafeMutablePointer<Float>?,
                                         UnsafeMutablePointer<Float>?) -> Void
    public let softmaxRowBFloat16: @Sendable (UnsafeMutablePointer<Float>?, Int, UnsafeMutablePointer<UInt16>?) -> Float
    public let roundBFloat16Rows: @Sendable (UnsafePointer<Float>?, Int, Int, Int, UnsafeMutablePointer<UInt16>?, Int) -> Void
    public let swiGLURows: @Sendable (UnsafePointer<Float>?, Int, Int, UnsafeMutablePointer<Float>?) -> Void

    public var description: String { name }

    public static let avx512 = KernelPath(
        name: "avx512", isSupported: voxenc_cpu_supports_avx512(), gelu: voxenc_gelu_avx512,
        geluBiasRows: voxenc_gelu_bias_rows_avx512, dequantiseRow: voxenc_dequantise_row_avx512,
        softmaxRow: voxenc_softmax_exponentiate_row_avx512, layerNormRows: voxenc_layer_norm_rows_avx512,
        log10: voxenc_log10_avx512, exp: voxenc_exp_avx512, log10MelBlock: voxenc_log10_mel_block_avx512,
        softmaxRowBFloat16: voxenc_softmax_exponentiate_row_bf16_avx512, roundBFloat16Rows: voxenc_round_bf16_rows_avx512,
        swiGLURows: voxenc_swiglu_rows_avx512)
    public static let avx2 = KernelPath(
        name: "avx2", isSupported: voxenc_cpu_supports_avx2(), gelu: voxenc_gelu_avx2,
        geluBiasRows: voxenc_gelu_bias_rows_avx2, dequantiseRow: voxenc_dequantise_row_avx2,
        softmaxRow: voxenc_softmax_exponentiate_row_avx2, layerNormRows: voxenc_layer_norm_rows_avx2,
        log10: voxenc_log10_avx2, exp: voxenc_exp_avx2, log10MelBlock: voxenc_log10_mel_block_avx2,
        softmaxRowBFloat16: voxenc_softmax_exponentiate_row_bf16_avx2, roundBFloat16Rows: voxenc_round_bf16_rows_avx2,
        swiGLURows: voxenc_swiglu_rows_avx2)
    /// Baseline x86-64: every CPU runs it.
    public static let sse2 = KernelPath(
        name: "sse2", isSupported: true, gelu: voxenc_gelu_sse2,
        geluBiasRows: voxenc_gelu_bias_rows_sse2, dequantiseRow: voxenc_dequantise_row_sse2,
        softmaxRow: voxenc_softmax_exponentiate_row_sse2, layerNormRows: voxenc_layer_norm_rows_sse2,
        log10: voxenc_log10_sse2, exp: voxenc_exp_sse2, log10MelBlock: voxenc_log10_mel_block_sse2,
        softmaxRowBFloat16: voxenc_softmax_exponentiate_row_bf16_sse2, roundBFloat16Rows: voxenc_round_bf16_rows_sse2,
        swiGLURows: voxenc_swiglu_rows_sse2)

    public static let all = [avx512, avx2, sse2]
    /// Why a path's tests are skipped.
    public static let avx512Missing = "this CPU (or its OS) lacks AVX-512 F/BW/DQ/VL: the avx512 copy cannot run here"
    public static let avx2Missing = "this CPU (or its OS) lacks AVX2 + FMA: the avx2 copy cannot run here"

    /// Values over the whole float range for element-wise kernels: a ramp, random values, and the edges (zeros,
    /// tiny, huge, both signs). `count` values, deterministic.
    public static func wideRange(count: Int, seed: UInt64, scale: Float) -> [Float] {
        let edges: [Float] = [0, -0, 1e-30, -1e-30, 1e-8, -1e-8, 12, -12, 40, -40, 1e4, -1e4, 1e30, -1e30, 3e38, -3e38]
        let random = Reference.randomValues(count: count, seed: seed, scale: scale)
        return (0..<count).map { i in i % 7 == 3 ? edges[(i / 7) % edges.count] : random[i] }
    }
}
