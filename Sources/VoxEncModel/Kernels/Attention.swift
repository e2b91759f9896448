// Bidirectional multi-head self-attention of one chunk, no mask.
// Reference: transformers VoxtralAttention / WhisperAttention (eager): q = (x·Wqᵀ + bq)·Dh^−½, k = x·Wkᵀ (no bias),
// v = x·Wvᵀ + bv; per head softmax(q_h·k_hᵀ)·v_h; heads concatenated in order. SPEC.md §2.4.
// Letters: T frames of the chunk, D width, H heads, Dh = D / H, R rows per block.
//
// Heads are independent: the threads of the budget split them, each running single-threaded sgemm on its own heads.
// Every head's GEMMs are the same calls (fixed row blocks of R) whatever the threads and the batch.
// Within a head, rows go in blocks of R so that a block of scores [R, T] stays in the core's cache between q·kᵀ,
// the softmax and P·v. The softmax's division is applied to the [R, Dh] output instead of the [R, T]
// probabilities: (E/s)·v = (E·v)/s, one pass over the scores fewer (differs from the reference by float rounding).

#if canImport(Glibc)
import Glibc
#endif

public enum Attention {
    /// Rows of scores per block. 512 × 1500 floats (3 MB) live in L3, not L2, but the two GEMMs run closer to the
    /// sgemm rate with more rows; 512 was the fastest of 128 / 256 / 512 / 1500 (docs/performance.md, measured with
    /// `voxenc-bench kernels`).
    public static let rowBlock: Int = {
        if let text = getenv("VOXENC_ATTENTION_BLOCK"), let value = Int(String(cString: text)), value > 0 { return value }
        return 512
    }()

    /// Scratch floats `apply` needs for `threads` workers and `frames` frames.
    public static func scratchCount(frames: Int, threads: Int, block: Int = rowBlock) -> Int {
        max(1, threads) * min(block, frames) * (frames + 1)  // scores [R, T] and row sums [R] per worker
    }

    /// qkv [T, 3D] (q already scaled) → output [T, D]. `scores` holds `scratchCount(frames:threads:)` floats for
    /// `threads` workers (and `block` rows). Cost: 4·T²·D flops (two GEMMs per head) + T²·H exponentials.
    /// `bfloat16QKV`, when given ([T, 3D] UInt16), makes both products bf16 with float32 accumulation (the
    /// `.bfloat16` precision's layers): q | k | v rounded into it once, each row of probabilities after its
    /// exponentials; the scores, softmax and its sums stay float32. Which layers take bf16 operands is the policy's
    /// choice (PrecisionPolicy.attention(layer:)); the error each choice adds is measured in docs/precision.md.
    public static func apply(qkv: UnsafePointer<Float>, frames: Int, width: Int, heads: Int, gemm: FloatGEMM,
                             scores: UnsafeMutablePointer<Float>, threads: Int, block: Int = rowBlock,
                             bfloat16QKV: UnsafeMutablePointer<UInt16>? = nil,
                             into output: UnsafeMutablePointer<Float>) {
        let block = min(block, frames)
        let workers = max(1, min(threads, heads))
        if let bfloat16QKV {
            let pointers = UncheckedSendable((qkv, bfloat16QKV))
            Parallel.forEachRange(frames, minimumPerThread: 64) { range in
                let (qkv, rounded) = pointers.value
                BFloat16GEMM.round(qkv + range.lowerBound * 3 * width, rows: range.count, columns: 3 * width,
                                   ldx: 3 * width, into: rounded + range.lowerBound * 3 * width, ldy: 3 * width)
            }
        }
        let pointers = UncheckedSendable((qkv, scores, output, bfloat16QKV))
        Parallel.forEachRange(workers) { range in
            let (qkv, scores, output, rounded) = pointers.value
            for worker in range {
                let own = scores + worker * block * (frames + 1)
                // Worker w takes heads w, w + workers, …: an even split when H is a multiple of the workers.
                for h in Swift.stride(from: worker, to: heads, by: workers) {
                    head(h, qkv: qkv, bfloat16QKV: rounded, frames: frames, width: width, heads: heads, block: block,
                         gemm: gemm, scores: own, into: output)
                }
            }
        }
    }

    /// One head, row block by row block: S = q_blk·k_hᵀ [R, T] → softmax rows → O_blk = S·v_h [R, Dh]. With
    /// `bfloat16QKV` ([T, 3D]), q·kᵀ and P·v run on bf16 operands, each row of exponentials written as bf16 in place
    /// by the softmax pass itself (a row of bf16 takes half a row of floats; row r lands on rows already consumed).
    @inline(__always)
    static func head(_ h: Int, qkv: UnsafePointer<Float>, bfloat16QKV: UnsafePointer<UInt16>?, frames: Int,
                     width: Int, heads: Int, block: Int, gemm: FloatGEMM, scores: UnsafeMutablePointer<Float>,
                     into output: UnsafeMutablePointer<Float>) {
        let headWidth = width / heads
        let stride = 3 * width
        let (q, k, v) = (h * headWidth, width + h * headWidth, 2 * width + h * headWidth)  // columns in qkv
        let sums = scores + block * frames
        var first = 0
        while first < frames {
            let rows = min(block, frames - first)
            let out = output + first * width + h * headWidth
            if let rounded = bfloat16QKV {
                BFloat16GEMM.multiply(rounded + first * stride + q, rounded + k, transposeB: true, into: scores,
                                      m: rows, n: frames, k: headWidth, lda: stride, ldb: stride, ldc: frames)
                let probabilities = UnsafeMutableRawPointer(scores).assumingMemoryBound(to: UInt16.self)
                for r in 0..<rows {
                    sums[r] = 1 / Softmax.exponentiateRow(scores + r * frames, width: frames,
                                                          roundingInto: probabilities + r * frames)
                }
                BFloat16GEMM.multiply(probabilities, rounded + v, transposeB: false, into: out, m: rows, n: headWidth,
                                      k: frames, lda: frames, ldb: stride, ldc: width)
            } else {
                gemm.multiplyTransposed(qkv + first * stride + q, qkv + k, into: scores, m: rows, n: frames,
                                        k: headWidth, lda: stride, ldb: stride, ldc: frames)
                for r in 0..<rows { sums[r] = 1 / Softmax.exponentiateRow(scores + r * frames, width: frames) }
                gemm.multiply(scores, qkv + v, into: out, m: rows, n: headWidth, k: frames, lda: frames, ldb: stride,
                              ldc: width)
            }
            for r in 0..<rows {
                let row = out + r * width
                let inverse = sums[r]
                for j in 0..<headWidth { row[j] *= inverse }
            }
            first += rows
        }
    }
}
