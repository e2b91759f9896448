// 8-bit integer matrix products through oneDNN's dnnl_gemm_u8s8s32: C[int32] = A[u8] · B[s8]ᵀ.
// Why u8 × s8 (and not s8 × s8 or the matmul primitive): x86's 8-bit dot-product instructions multiply unsigned by
// signed bytes (AVX2 vpmaddubsw, AVX-512/AVX VNNI vpdpbusd), so u8 × s8 is oneDNN's native GEMM; its s8s8 GEMM adds
// 128 to A and a compensation on every call, and in oneDNN 2.6 the int8 matmul primitive runs this same GEMM on AVX2
// (its brgemm kernels need AVX-512). Activations become u8 with a zero point (RowQuantisation), weights s8.
// Saturation: without VNNI, vpmaddubsw adds two u8·s8 products in int16 with saturation; 2 · 255 · 63 < 2¹⁵, so weights
// are quantised to ±63 there and to ±127 where VNNI accumulates in int32 (`Support.weightLevels`).
// Threading is ours (as in GEMM.swift): each call runs single-threaded on the calling thread (OpenMP's thread count,
// which oneDNN follows, is set to 1 per thread) and QuantisedLinear splits rows over `Parallel`. Integer sums are
// exact, so results never depend on the split.

#if VOXENC_ONEDNN
import CDNNL
#endif

public enum IntegerGEMM {
    /// What oneDNN offers on this CPU.
    public struct Support: Sendable, Equatable {
        /// oneDNN's effective instruction set ("avx512_core_vnni", "avx2", …; DNNL_MAX_CPU_ISA can lower it).
        public let instructionSet: String
        /// Largest |q| of quantised weights: 127 where the dot product accumulates in int32 (VNNI), else 63.
        public let weightLevels: Int
    }

    /// Whether int8 runs here, checked once per process.
    public static let support: Result<Support, PrecisionError> = probe()

    private static func probe() -> Result<Support, PrecisionError> {
        #if VOXENC_ONEDNN
        let name = OneDNN.instructionSet ?? "none"
        guard OneDNN.reaches(dnnl_cpu_isa_avx2) else { return .failure(.instructionSetTooOld(found: name)) }
        let hasVNNI = OneDNN.reaches(dnnl_cpu_isa_avx512_core_vnni) || OneDNN.reaches(dnnl_cpu_isa_avx2_vnni)
        return .success(Support(instructionSet: name, weightLevels: hasVNNI ? 127 : 63))
        #else
        return .failure(.oneDNNUnavailable)
        #endif
    }

    /// C[m, n] = A[m, k] · B[n, k]ᵀ in int32, A unsigned, B signed (B is [out, in], a Linear's layout).
    /// Runs on the calling thread. Cost: m·n·k multiply-adds.
    @inline(__always)
    static func multiplyTransposed(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<Int8>,
                                   into c: UnsafeMutablePointer<Int32>, m: Int, n: Int, k: Int,
                                   lda: Int, ldb: Int, ldc: Int) {
        #if VOXENC_ONEDNN
        omp_set_num_threads(1)
        var offset: Int32 = 0
        let status = dnnl_gemm_u8s8s32(CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: "T")), CChar(UInt8(ascii: "F")),
                                       Int64(m), Int64(n), Int64(k), 1, a, Int64(lda), 0, b, Int64(ldb), 0, 0,
                                       c, Int64(ldc), &offset)
        precondition(status == dnnl_success, "dnnl_gemm_u8s8s32 failed (status \(status.rawValue))")
        #else
        preconditionFailure("int8 GEMM without oneDNN (Precision.checkSupported refuses first)")
        #endif
    }
}
