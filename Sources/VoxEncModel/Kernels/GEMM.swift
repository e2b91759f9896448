// Matrix products through OpenBLAS's cblas_sgemm (row-major). Every GEMM of the encoder goes through here.

import COpenBLAS

public enum GEMM {
    /// C[m, n] = alpha · A[m, k] · B[n, k]ᵀ + beta · C — the shape of every Linear layer (B is [out, in]).
    /// Leading dimensions default to packed rows. Cost: 2·m·n·k flops.
    @inline(__always)
    public static func multiplyTransposed(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil,
        alpha: Float = 1, beta: Float = 0
    ) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda ?? k), b, Int32(ldb ?? k), beta, c, Int32(ldc ?? n))
    }

    /// C[m, n] = alpha · A[m, k] · B[k, n] + beta · C. Cost: 2·m·n·k flops.
    @inline(__always)
    public static func multiply(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil,
        alpha: Float = 1, beta: Float = 0
    ) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda ?? k), b, Int32(ldb ?? n), beta, c, Int32(ldc ?? n))
    }

    /// OpenBLAS's own thread pool size, also used for the element-wise kernels between GEMMs (`Parallel`),
    /// which never run at the same time as a GEMM: threads never exceed this number.
    /// Set it before embedding, not while other threads run GEMMs (OpenBLAS does not support that).
    public static var threadCount: Int {
        get { Int(openblas_get_num_threads()) }
        set {
            // Only when it changes: a call while another thread runs a GEMM can hang OpenBLAS.
            if Int(openblas_get_num_threads()) != max(1, newValue) { openblas_set_num_threads(Int32(max(1, newValue))) }
            Parallel.threadCount = max(1, newValue)
        }
    }
}

public enum Linear {
    /// output[T, out] = input[T, in] · Wᵀ (+ b), or output += … when `accumulate` (residual connections).
    /// Cost: 2·T·out·in flops.
    public static func apply(_ weights: LinearWeights, input: UnsafePointer<Float>, rows: Int,
                             into output: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
        weights.weight.withUnsafeBufferPointer { w in
            GEMM.multiplyTransposed(input, w.baseAddress!, into: output, m: rows, n: weights.outputCount,
                                    k: weights.inputCount, beta: accumulate ? 1 : 0)
        }
        if let bias = weights.bias {
            bias.withUnsafeBufferPointer { b in
                addRowVector(b.baseAddress!, to: output, rows: rows, columns: weights.outputCount)
            }
        }
    }

    /// x[r, :] += v for every row.
    @inline(__always)
    static func addRowVector(_ vector: UnsafePointer<Float>, to x: UnsafeMutablePointer<Float>, rows: Int,
                             columns: Int, rowStride: Int? = nil) {
        let stride = rowStride ?? columns
        Parallel.forEachRange(rows, minimumPerThread: 64) { range in
            for r in range {
                let row = x + r * stride
                for c in 0..<columns { row[c] += vector[c] }
            }
        }
    }
}
