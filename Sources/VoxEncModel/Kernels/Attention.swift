// Bidirectional multi-head self-attention of one chunk, no mask.
// Reference: transformers VoxtralAttention / WhisperAttention (eager): q = (x·Wqᵀ + bq)·Dh^−½, k = x·Wkᵀ (no bias),
// v = x·Wvᵀ + bv; per head softmax(q_h·k_hᵀ)·v_h; heads concatenated in order. SPEC.md §2.4.
// Letters: T frames of the chunk, D width, H heads, Dh = D / H.

public enum Attention {
    /// qkv [T, 3D] (q already scaled) → output [T, D]. `scores` is scratch of T·T floats.
    /// Cost: 4·T²·D flops (two GEMMs per head) + T²·H exponentials.
    public static func apply(qkv: UnsafePointer<Float>, frames: Int, width: Int, heads: Int,
                             scores: UnsafeMutablePointer<Float>, into output: UnsafeMutablePointer<Float>) {
        let headWidth = width / heads
        let qkvStride = 3 * width
        for h in 0..<heads {
            let q = qkv + h * headWidth
            let k = qkv + width + h * headWidth
            let v = qkv + 2 * width + h * headWidth
            // scores[T, T] = q_h · k_hᵀ
            GEMM.multiplyTransposed(q, k, into: scores, m: frames, n: frames, k: headWidth,
                                    lda: qkvStride, ldb: qkvStride, ldc: frames)
            Softmax.applyRowsInPlace(scores, rows: frames, width: frames)
            // output[:, h·Dh ..< (h+1)·Dh] = P · v_h
            GEMM.multiply(scores, v, into: output + h * headWidth, m: frames, n: headWidth, k: frames,
                          lda: frames, ldb: qkvStride, ldc: width)
        }
    }
}
