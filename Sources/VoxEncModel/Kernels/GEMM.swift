// Matrix products through OpenBLAS's cblas_sgemm (row-major). Every GEMM of the encoder goes through here.
// Threading is ours, not OpenBLAS's: OpenBLAS runs single-threaded in each calling thread, and a large product is
// split into row blocks computed concurrently (`Parallel`), one per thread of the budget. Why: the encoder issues
// hundreds of small attention GEMMs per layer; OpenBLAS's pool spent ≈ 10 % of the time waking and yielding, and
// changing its size at run time (to run heads in parallel) hangs OpenBLAS 0.3.21 at exit. Each output row is
// computed by the same single-threaded kernel whatever the split, so results do not depend on the thread count.

import COpenBLAS

public enum GEMM {
    /// OpenBLAS on one thread per call, set once before the first product (never changed afterwards).
    static let singleThreaded: Void = openblas_set_num_threads(1)

    /// C[m, n] = alpha · A[m, k] · B[n, k]ᵀ + beta · C — the shape of every Linear layer (B is [out, in]).
    /// Leading dimensions default to packed rows. Runs on the calling thread. Cost: 2·m·n·k flops.
    @inline(__always)
    public static func multiplyTransposed(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil,
        alpha: Float = 1, beta: Float = 0
    ) {
        _ = singleThreaded
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda ?? k), b, Int32(ldb ?? k), beta, c, Int32(ldc ?? n))
    }

    /// `multiplyTransposed` with the rows of A and C split over the thread budget (blocks of 16 rows).
    public static func parallelMultiplyTransposed(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil,
        alpha: Float = 1, beta: Float = 0
    ) {
        let lda = lda ?? k, ldc = ldc ?? n
        let tiles = (m + 15) / 16
        Parallel.forEachRange(tiles, minimumPerThread: 8) { range in
            let first = range.lowerBound * 16, last = min(m, range.upperBound * 16)
            multiplyTransposed(a + first * lda, b, into: c + first * ldc, m: last - first, n: n, k: k,
                               lda: lda, ldb: ldb, ldc: ldc, alpha: alpha, beta: beta)
        }
    }

    /// C[m, n] = alpha · A[m, k] · B[k, n] + beta · C. Cost: 2·m·n·k flops.
    @inline(__always)
    public static func multiply(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil,
        alpha: Float = 1, beta: Float = 0
    ) {
        _ = singleThreaded
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda ?? k), b, Int32(ldb ?? n), beta, c, Int32(ldc ?? n))
    }

    /// The thread budget of one encode: GEMM row blocks, attention heads and element-wise loops all use it.
    /// Process-wide, like a BLAS pool size. Concurrent callers each use up to this many threads.
    public static var threadCount: Int {
        get { Parallel.threadCount }
        set {
            _ = singleThreaded
            Parallel.threadCount = max(1, newValue)
        }
    }
}

public enum Linear {
    /// output[T, out] = input[T, in] · Wᵀ (+ b), or output += … when `accumulate` (residual connections).
    /// `addingBias: false` leaves the bias to the caller's next pass (fused with GELU or the q scaling).
    /// Cost: 2·T·out·in flops.
    public static func apply(_ weights: LinearWeights, input: UnsafePointer<Float>, rows: Int,
                             into output: UnsafeMutablePointer<Float>, accumulate: Bool = false,
                             addingBias: Bool = true) {
        precondition(weights.weight.count == weights.outputCount * weights.inputCount,
                     "weight released (an int8 layer runs through QuantisedLinear)")
        weights.weight.withUnsafeBufferPointer { w in
            GEMM.parallelMultiplyTransposed(input, w.baseAddress!, into: output, m: rows, n: weights.outputCount,
                                            k: weights.inputCount, beta: accumulate ? 1 : 0)
        }
        if addingBias, let bias = weights.bias {
            bias.withUnsafeBufferPointer { b in
                addRowVector(b.baseAddress!, to: output, rows: rows, columns: weights.outputCount)
            }
        }
    }

    /// x[r, :] += v for every row.
    @inline(__always)
    public static func addRowVector(_ vector: UnsafePointer<Float>, to x: UnsafeMutablePointer<Float>, rows: Int,
                             columns: Int) {
        Parallel.forEachRange(rows, minimumPerThread: 64) { range in
            for r in range {
                let row = x + r * columns
                for c in 0..<columns { row[c] += vector[c] }
            }
        }
    }
}
