// What oneDNN (Debian: libdnnl-dev 2.6, OpenMP runtime) runs on this CPU. It dispatches on CPUID features, not on
// model numbers, so it knows CPUs newer than itself. DNNL_MAX_CPU_ISA (or dnnl_set_max_cpu_isa) can lower the ISA.

#if VOXENC_ONEDNN
import CDNNL
#endif

public enum OneDNN {
    /// Whether this build links oneDNN (Package.swift: built in when its header is installed).
    public static var isAvailable: Bool {
        #if VOXENC_ONEDNN
        return true
        #else
        return false
        #endif
    }

    /// oneDNN's effective instruction set ("avx512_core_amx", "avx512_core_bf16", "avx2", …), nil without oneDNN.
    public static let instructionSet: String? = {
        #if VOXENC_ONEDNN
        let isa = dnnl_get_effective_cpu_isa().rawValue
        let names: [UInt32: String] = [
            dnnl_cpu_isa_sse41.rawValue: "sse41", dnnl_cpu_isa_avx.rawValue: "avx", dnnl_cpu_isa_avx2.rawValue: "avx2",
            dnnl_cpu_isa_avx2_vnni.rawValue: "avx2_vnni", dnnl_cpu_isa_avx512_core.rawValue: "avx512_core",
            dnnl_cpu_isa_avx512_core_vnni.rawValue: "avx512_core_vnni",
            dnnl_cpu_isa_avx512_core_bf16.rawValue: "avx512_core_bf16",
            dnnl_cpu_isa_avx512_core_amx.rawValue: "avx512_core_amx",
        ]
        return names[isa] ?? "isa 0x" + String(isa, radix: 16)
        #else
        return nil
        #endif
    }()

    /// The implementations oneDNN's matmul picks for a small packed Linear of each operand type: "brg:avx512_core"
    /// (float32), "brg:avx512_core_bf16" or "brg:avx512_core_amx_bf16" (bf16), "brg:avx512_core_vnni" or
    /// "brg:avx512_core_amx_int8" (u8 × s8); nil without oneDNN or when it has none. "brg" marks brgemm kernels,
    /// which GEMMRouting requires before it prefers the matmul primitive.
    public static let matmulImplementation = probe(.float32)
    public static let bfloat16MatmulImplementation = probe(.bfloat16)
    public static let integerMatmulImplementation = probe(.unsigned8Signed8)

    private static func probe(_ operands: PackedOperands) -> String? {
        guard isAvailable else { return nil }
        let k = 128, n = 64
        if operands == .unsigned8Signed8 {
            let weight = [Int8](repeating: 1, count: n * k)
            return weight.withUnsafeBufferPointer { w in
                try? PackedMatrix(quantised: w.baseAddress!, outputCount: n, inputCount: k).implementation
            }
        }
        let weight = [Float](repeating: 0, count: n * k)
        return weight.withUnsafeBufferPointer { w in
            try? PackedMatrix(weight: w.baseAddress!, outputCount: n, inputCount: k, operands: operands).implementation
        }
    }

    #if VOXENC_ONEDNN
    /// oneDNN's ISA includes native bf16 (avx512_core_bf16 or AMX).
    static var reachesBFloat16: Bool { reaches(dnnl_cpu_isa_avx512_core_bf16) }
    #endif

    /// Whether oneDNN's effective ISA includes all of `isa`'s bits (the ISA values are bit sets: later levels hold
    /// the earlier ones' bits).
    #if VOXENC_ONEDNN
    static func reaches(_ isa: dnnl_cpu_isa_t) -> Bool {
        let effective = dnnl_get_effective_cpu_isa().rawValue
        return effective & isa.rawValue == isa.rawValue
    }
    #endif

    /// The vector level oneDNN's f32 kernels use here.
    public static var vectorLevel: CPU.VectorLevel? {
        #if VOXENC_ONEDNN
        if reaches(dnnl_cpu_isa_avx512_core) { return .avx512 }
        if reaches(dnnl_cpu_isa_avx2) { return .avx2 }
        if reaches(dnnl_cpu_isa_avx) { return .avx }
        return .sse
        #else
        return nil
        #endif
    }
}
