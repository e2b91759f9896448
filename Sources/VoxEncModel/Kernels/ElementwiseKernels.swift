// Which copy of the C element-wise kernels (CVoxEncKernels: GELU, softmax, LayerNorm, the int8 epilogue, log-mel's
// filterbank and log10) this process runs. Chosen once from the CPU: AVX-512 (F/BW/DQ/VL + FMA), AVX2 + FMA, or
// baseline SSE2; VOXENC_KERNEL_ISA=avx512|avx2|baseline lowers the choice (development and tests), never above what
// the CPU has. The avx512 and avx2 copies give identical bits; sse2 differs by not fusing multiply-adds.

import CVoxEncKernels

public enum ElementwiseKernels {
    /// "avx512", "avx2" or "sse2".
    public static var instructionSet: String { String(cString: voxenc_kernel_isa_name()) }

    /// The copies this build holds, best first: all three on x86-64 (per-function target attributes), the baseline
    /// elsewhere.
    public static var compiledInstructionSets: [String] {
        #if arch(x86_64)
        return ["avx512", "avx2", "sse2"]
        #else
        return ["sse2"]
        #endif
    }

    /// The copies this CPU can run, best first (always ends with "sse2").
    public static var supportedInstructionSets: [String] {
        (voxenc_cpu_supports_avx512() ? ["avx512"] : []) + (voxenc_cpu_supports_avx2() ? ["avx2"] : []) + ["sse2"]
    }

    /// y[i] = the IEEE binary16 bits of x[i], rounded to nearest, ties to even (numpy's astype(float16)); the same
    /// bits from every copy. Output embeddings at --dtype float16.
    public static func roundFloat16(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<UInt16>) {
        voxenc_round_f16(x, count, y)
    }
}
