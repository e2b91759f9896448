// Bidirectional multi-head self-attention of one chunk, no mask.
// Reference: transformers VoxtralAttention / WhisperAttention (eager): q = (x·Wqᵀ + bq)·Dh^−½, k = x·Wkᵀ (no bias),
// v = x·Wvᵀ + bv; per head softmax(q_h·k_hᵀ)·v_h; heads concatenated in order. SPEC.md §2.4.
// Letters: T frames of the chunk, D width, H heads, Dh = D / H, R rows per block.
//
// Within a head, rows go in blocks of R so that a block of scores [R, T] stays in cache between q·kᵀ, the softmax
// and P·v; the GEMMs use OpenBLAS's threads, the softmax rows ours (`Parallel`), one after the other.
// Measured and dropped: heads split across our threads, each running single-threaded sgemm. It needs
// openblas_set_num_threads toggled at run time, and OpenBLAS 0.3.21 then hangs in blas_thread_shutdown_ at exit.

public enum Attention {
    /// Rows of scores per block: 128 × 1500 floats = 750 kB, inside a 1 MB L2.
    public static let rowBlock = 128

    /// Scratch floats `apply` needs for `frames` frames (`threads` is kept for callers; one block is shared).
    public static func scratchCount(frames: Int, threads: Int) -> Int { min(rowBlock, frames) * frames }

    /// qkv [T, 3D] (q already scaled) → output [T, D]. `scores` holds `scratchCount(frames:threads:)` floats for
    /// `threads` workers. Cost: 4·T²·D flops (two GEMMs per head) + T²·H exponentials.
    public static func apply(qkv: UnsafePointer<Float>, frames: Int, width: Int, heads: Int,
                             scores: UnsafeMutablePointer<Float>, threads: Int, into output: UnsafeMutablePointer<Float>) {
        let block = min(rowBlock, frames)
        for h in 0..<heads {
            head(h, qkv: qkv, frames: frames, width: width, heads: heads, block: block, scores: scores, into: output)
        }
    }

    /// One head, row block by row block: S = q_blk·k_hᵀ [R, T] → softmax rows → O_blk = S·v_h [R, Dh].
    @inline(__always)
    static func head(_ h: Int, qkv: UnsafePointer<Float>, frames: Int, width: Int, heads: Int, block: Int,
                     scores: UnsafeMutablePointer<Float>, into output: UnsafeMutablePointer<Float>) {
        let headWidth = width / heads
        let stride = 3 * width
        let k = qkv + width + h * headWidth
        let v = qkv + 2 * width + h * headWidth
        var first = 0
        while first < frames {
            let rows = min(block, frames - first)
            let q = qkv + first * stride + h * headWidth
            GEMM.multiplyTransposed(q, k, into: scores, m: rows, n: frames, k: headWidth, lda: stride, ldb: stride,
                                    ldc: frames)
            Softmax.applyRowsInPlace(scores, rows: rows, width: frames)
            GEMM.multiply(scores, v, into: output + first * width + h * headWidth, m: rows, n: headWidth, k: frames,
                          lda: frames, ldb: stride, ldc: width)
            first += rows
        }
    }
}
