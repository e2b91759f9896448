// The float32 GEMM backends: OpenBLAS's cblas_sgemm and oneDNN's dnnl_sgemm, both row-major, both called
// single-threaded on the calling thread (threading is ours: FloatGEMM.multiplyTransposedInBlocks, Attention).
// Which one runs is decided in one place, GEMMRouting.swift; this file only knows how to call each.
//
// Why single-threaded calls: the encoder issues hundreds of small attention GEMMs per layer; OpenBLAS's pool spent
// ≈ 10 % of the time waking and yielding, and changing its size at run time hangs OpenBLAS 0.3.21 at exit.

import COpenBLAS
#if VOXENC_ONEDNN
import CDNNL
#endif

public enum FloatGEMM: String, Sendable, CaseIterable, Codable {
    /// OpenBLAS cblas_sgemm, with the kernel OpenBLAS picked at load (`OpenBLAS.coreName`).
    case openBLAS = "openblas"
    /// oneDNN dnnl_sgemm: JIT kernels for the CPU's ISA (CPUID features, `OneDNN.instructionSet`).
    case oneDNN = "onednn"
    /// oneDNN's matmul primitive on Linear weights packed once into its blocked layout (PackedMatrix: no packing of
    /// the weights on every call); products of two activations (attention) run on dnnl_sgemm.
    case oneDNNMatmul = "onednn-matmul"

    /// Whether this build can call it.
    public var isAvailable: Bool { self == .openBLAS || OneDNN.isAvailable }

    /// The kernel it runs here: OpenBLAS's core name ("Haswell", "SkylakeX", "Prescott") or oneDNN's ISA.
    public var kernel: String {
        switch self {
        case .openBLAS: return OpenBLAS.coreName
        case .oneDNN: return OneDNN.instructionSet ?? "unavailable"
        case .oneDNNMatmul: return OneDNN.matmulImplementation ?? "unavailable"
        }
    }

    /// The vector level its kernels use on this CPU (nil: unknown or unavailable).
    public var vectorLevel: CPU.VectorLevel? {
        switch self {
        case .openBLAS: return OpenBLAS.vectorLevel
        case .oneDNN, .oneDNNMatmul: return OneDNN.vectorLevel
        }
    }

    /// C[m, n] = alpha · A[m, k] · B[n, k]ᵀ + beta · C — the shape of every Linear layer (B is [out, in]).
    /// Leading dimensions default to packed rows. Runs on the calling thread. Cost: 2·m·n·k flops.
    @inline(__always)
    public func multiplyTransposed(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil,
        alpha: Float = 1, beta: Float = 0
    ) {
        call(transposeB: true, a, b, into: c, m: m, n: n, k: k, lda: lda ?? k, ldb: ldb ?? k, ldc: ldc ?? n,
             alpha: alpha, beta: beta)
    }

    /// C[m, n] = alpha · A[m, k] · B[k, n] + beta · C. Runs on the calling thread. Cost: 2·m·n·k flops.
    @inline(__always)
    public func multiply(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil,
        alpha: Float = 1, beta: Float = 0
    ) {
        call(transposeB: false, a, b, into: c, m: m, n: n, k: k, lda: lda ?? k, ldb: ldb ?? n, ldc: ldc ?? n,
             alpha: alpha, beta: beta)
    }

    @inline(__always)
    private func call(transposeB: Bool, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                      into c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int,
                      alpha: Float, beta: Float) {
        switch self {
        case .openBLAS:
            _ = OpenBLAS.singleThreaded
            cblas_sgemm(CblasRowMajor, CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans, Int32(m), Int32(n),
                        Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        case .oneDNN, .oneDNNMatmul:
            #if VOXENC_ONEDNN
            omp_set_num_threads(1)  // per calling thread: oneDNN follows OpenMP's count
            let status = dnnl_sgemm(CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: transposeB ? "T" : "N")),
                                    Int64(m), Int64(n), Int64(k), alpha, a, Int64(lda), b, Int64(ldb), beta, c,
                                    Int64(ldc))
            precondition(status == dnnl_success, "dnnl_sgemm failed (status \(status.rawValue))")
            #else
            preconditionFailure("oneDNN is not in this build (GEMMRouting never picks it)")
            #endif
        }
    }

    /// `multiplyTransposed` over fixed row blocks (`RowBlocks`), the blocks spread over the call's thread budget.
    /// Every block is one call of the same shape whatever the number of chunks and threads, so each output row is
    /// computed by the same kernel call in every batch composition and at every thread count.
    public func multiplyTransposedInBlocks(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>,
        blocks: RowBlocks, n: Int, k: Int, lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil,
        alpha: Float = 1, beta: Float = 0
    ) {
        let lda = lda ?? k, ldc = ldc ?? n
        let pointers = UncheckedSendable((a, c))
        Parallel.forEachRange(blocks.count) { range in
            let (a, c) = pointers.value
            for index in range {
                let rows = blocks[index]
                multiplyTransposed(a + rows.lowerBound * lda, b, into: c + rows.lowerBound * ldc, m: rows.count,
                                   n: n, k: k, lda: lda, ldb: ldb, ldc: ldc, alpha: alpha, beta: beta)
            }
        }
    }
}

/// What OpenBLAS runs here. Its DYNAMIC_ARCH build picks a kernel set once, at load, from the CPU's family and model
/// (or OPENBLAS_CORETYPE); a CPU newer than the library gets an old generic set (Debian 12's 0.3.21 on Emerald
/// Rapids: "Prescott", SSE3, 5× slower than its AVX-512 kernels).
public enum OpenBLAS {
    /// OpenBLAS on one thread per call, set once before the first product (never changed afterwards).
    static let singleThreaded: Void = openblas_set_num_threads(1)

    /// openblas_get_corename(): "Haswell", "Zen", "SkylakeX", "Cooperlake", "Prescott", …
    public static let coreName: String = {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }()

    /// The vector level of OpenBLAS's kernel set for its core names (kernel/x86_64/KERNEL.<CORE> of OpenBLAS 0.3.x).
    public static var vectorLevel: CPU.VectorLevel { vectorLevel(core: coreName) }

    static func vectorLevel(core: String) -> CPU.VectorLevel {
        switch core.lowercased() {
        case "skylakex", "cooperlake", "sapphirerapids": return .avx512
        case "haswell", "zen", "skylake": return .avx2
        case "sandybridge", "bulldozer", "piledriver", "steamroller", "excavator": return .avx
        default: return .sse  // Prescott, Core2, Penryn, Dunnington, Nehalem, Atom, Barcelona, Opteron, Katmai, …
        }
    }
}
