// Products of two bf16 activations through oneDNN's matmul (CVoxEncMatmul), and the float32 → bf16 rounding of their
// operands (CVoxEncKernels); float32 accumulation and output.

import CVoxEncKernels
#if VOXENC_ONEDNN
import CVoxEncMatmul
#endif

/// Products of two activations with bf16 operands (attention under `.bfloat16`), float32 accumulation and output.
public enum BFloat16GEMM {
    /// C[m, n] = A[m, k] · op(B), op(B) = B[k, n] or B[n, k]ᵀ (`transposeB`); row-major with leading dimensions.
    /// Runs single-threaded on the calling thread. Cost: 2·m·n·k flops.
    @inline(__always)
    public static func multiply(_ a: UnsafePointer<UInt16>, _ b: UnsafePointer<UInt16>, transposeB: Bool,
                                into c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, lda: Int, ldb: Int,
                                ldc: Int) {
        #if VOXENC_ONEDNN
        let status = voxenc_matmul_bf16(transposeB ? 1 : 0, Int64(m), Int64(n), Int64(k), a, Int64(lda), b, Int64(ldb),
                                        c, Int64(ldc))
        precondition(status == 0, "oneDNN bf16 matmul failed (status \(status)) for [\(m), \(k)] × [\(k), \(n)]")
        #else
        preconditionFailure("bf16 without oneDNN (Precision.checkSupported refuses first)")
        #endif
    }

    /// y[r, i] = bf16(x[r, i]) for `rows` rows of `columns`, ties to even. y may alias x when ldy ≤ 2·ldx (rows are
    /// converted in order, each read before it is overwritten). CVoxEncKernels' vector copy for this CPU.
    @inline(__always)
    public static func round(_ x: UnsafePointer<Float>, rows: Int, columns: Int, ldx: Int,
                             into y: UnsafeMutablePointer<UInt16>, ldy: Int) {
        voxenc_round_bf16_rows(x, rows, columns, ldx, y, ldy)
    }
}
