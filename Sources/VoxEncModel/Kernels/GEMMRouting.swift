// The one place that decides which GEMM backend runs for each precision on this CPU, and why.
//
// float32: oneDNN's matmul primitive on weights packed once when oneDNN has brgemm kernels for it (AVX-512 and
//   newer), else oneDNN's dnnl_sgemm when its kernels use the CPU's widest vector instructions, else OpenBLAS when
//   its kernels do, else whichever of the two uses wider ones.
//   OpenBLAS picks kernels from CPU family/model tables, so a CPU newer than the library gets generic ones
//   (Debian 12's 0.3.21 on Intel Emerald Rapids: "Prescott", SSE3, 29–31 GFLOP/s one-thread against 145–155 for
//   dnnl_sgemm); oneDNN dispatches on CPUID features and knows every CPU that has them. Where both fit, oneDNN
//   measured as fast or faster on the encoder's shapes, side by side (docs/performance.md): AMD Zen 4 (AVX-512),
//   2 threads, Voxtral-Mini, `voxenc bench --gemm …`: packed matmul 11.2 s per chunk (its GEMMs 217–221 GFLOP/s),
//   dnnl_sgemm 11.5 s (208–212), OpenBLAS Cooperlake 12.4–13.3 s (193–198); Intel Xeon (AVX-512), one thread, fc1:
//   matmul 146–151, dnnl_sgemm 145–155, OpenBLAS SkylakeX 149–157.
//   The choice is a rule, not a timing taken at start-up: on shared hosts a timing flips between runs, and a
//   different backend rounds differently, so two shards of one job would disagree in their last bits.
// int8: oneDNN's u8 × s8 matmul primitive on weights packed once where oneDNN has brgemm kernels for it (AVX512-VNNI,
//   AMX-INT8), else dnnl_gemm_u8s8s32 (IntegerGEMM.swift). Integer sums are exact: both give the same bits.
//
// bf16: oneDNN's matmul with bf16 operands where the CPU multiplies bf16 natively (AVX512-BF16, AMX-BF16); refused
//   elsewhere (`checkBFloat16`), never emulated.
//
// Overrides, for development and benchmarks: VOXENC_GEMM=openblas|onednn|onednn-matmul, VOXENC_INT8_GEMM=api|matmul,
// or EmbedderConfiguration.floatGEMM / `--gemm`. A forced route that runs generic kernels on a CPU with AVX2 is
// warned about (`warnings`).

#if canImport(Glibc)
import Glibc
#endif

public enum GEMMRouting {
    /// One precision's route: the backend, the kernel it runs here, and why it was chosen.
    public struct Route: Sendable, Equatable {
        public var precision: String
        public var backend: String
        public var kernel: String
        public var reason: String
        /// Generic kernels on a CPU that has better: a slow path.
        public var isSlow: Bool
    }

    /// The float32 backend automatic choice resolves to in this process (VOXENC_GEMM applied).
    public static let float32: FloatGEMM = resolve(nil).backend

    /// `requested` (nil: automatic, then VOXENC_GEMM, then the rule) → the backend and why.
    public static func resolve(_ requested: FloatGEMM?) -> (backend: FloatGEMM, reason: String) {
        if let requested, requested.isAvailable { return (requested, "requested") }
        if let text = getenv("VOXENC_GEMM"), let forced = FloatGEMM(rawValue: String(cString: text).lowercased()),
           forced.isAvailable {
            return (forced, "VOXENC_GEMM=\(forced.rawValue)")
        }
        return choose(cpu: CPU.current.vectorLevel, openBLAS: (OpenBLAS.coreName, OpenBLAS.vectorLevel),
                      oneDNN: OneDNN.instructionSet.map { ($0, OneDNN.vectorLevel ?? .sse, OneDNN.matmulImplementation ?? "") })
    }

    /// The rule, on plain facts (tested on every combination, GEMMRoutingTests).
    static func choose(cpu: CPU.VectorLevel, openBLAS: (core: String, level: CPU.VectorLevel),
                       oneDNN: (isa: String, level: CPU.VectorLevel, matmul: String)?) -> (backend: FloatGEMM, reason: String) {
        if let oneDNN, oneDNN.level >= cpu, oneDNN.matmul.hasPrefix("brg") {
            return (.oneDNNMatmul, "oneDNN's matmul has \(oneDNN.matmul) kernels for packed weights "
                + "(\(oneDNN.level), the CPU's widest; OpenBLAS runs \(openBLAS.core), \(openBLAS.level))")
        }
        if let oneDNN, oneDNN.level >= cpu {
            return (.oneDNN, "oneDNN's \(oneDNN.isa) kernels use \(oneDNN.level), the CPU's widest "
                + "(OpenBLAS runs \(openBLAS.core), \(openBLAS.level))")
        }
        if openBLAS.level >= cpu {
            return (.openBLAS, "OpenBLAS's \(openBLAS.core) kernels use \(openBLAS.level), the CPU's widest")
        }
        if let oneDNN, oneDNN.level > openBLAS.level {
            return (.oneDNN, "OpenBLAS runs \(openBLAS.core) (\(openBLAS.level)) kernels on a CPU with \(cpu); "
                + "oneDNN runs \(oneDNN.isa)")
        }
        return (.openBLAS, "OpenBLAS's \(openBLAS.core) kernels (\(openBLAS.level)); nothing faster is present")
    }

    /// How the Linear layers of a precision run (int8 layers aside): bf16 → oneDNN matmul with bf16 operands; float32
    /// → the route's sgemm, or oneDNN matmul on packed float32 weights for `.oneDNNMatmul`.
    public static func linearRoute(precision: Precision, gemm: FloatGEMM) -> LinearRoute {
        if precision == .bfloat16 { return .packed(.bfloat16) }
        return gemm == .oneDNNMatmul ? .packed(.float32) : .blas(gemm)
    }

    /// bf16 runs where oneDNN is built in and the CPU multiplies bf16 natively (AVX512-BF16, or AMX-BF16 whose
    /// CPUs have AVX512-BF16 too); a CPU without them would get a slow emulation, which is refused.
    public static func checkBFloat16() throws(PrecisionError) {
        guard OneDNN.isAvailable else { throw .bfloat16Unsupported(found: "this build of voxenc was made without oneDNN") }
        let cpu = CPU.current
        guard cpu.has("avx512_bf16") || cpu.has("amx_bf16") else {
            throw .bfloat16Unsupported(found: "this CPU has \(cpu.vectorLevel) without bf16 instructions")
        }
        #if VOXENC_ONEDNN
        guard OneDNN.reachesBFloat16 else {
            throw .bfloat16Unsupported(found: "oneDNN runs \(OneDNN.instructionSet ?? "?") here (DNNL_MAX_CPU_ISA?)")
        }
        #endif
    }

    /// The bf16 route (nil where bf16 cannot run here).
    public static var bfloat16Route: Route? {
        guard Precision.bfloat16.isSupported else { return nil }
        return Route(precision: Precision.bfloat16.rawValue, backend: "oneDNN matmul, bf16 operands",
                     kernel: OneDNN.bfloat16MatmulImplementation ?? "?",
                     reason: "the CPU multiplies bf16 natively", isSlow: false)
    }

    /// A backend runs generic kernels where the CPU has AVX2 or better.
    public static func isSlow(_ backend: FloatGEMM) -> Bool {
        (backend.vectorLevel ?? .sse) < min(CPU.current.vectorLevel, .avx2) || !backend.isAvailable
    }

    /// The float32 route for a requested backend (nil: automatic).
    public static func float32Route(_ requested: FloatGEMM? = nil) -> Route {
        let (backend, reason) = resolve(requested)
        let names: [FloatGEMM: String] = [.openBLAS: "OpenBLAS cblas_sgemm", .oneDNN: "oneDNN dnnl_sgemm",
                                          .oneDNNMatmul: "oneDNN matmul, packed weights"]
        return Route(precision: Precision.float32.rawValue, backend: names[backend]!, kernel: backend.kernel,
                     reason: reason, isSlow: isSlow(backend))
    }

    /// int8 through oneDNN's matmul primitive on packed weights (VOXENC_INT8_GEMM=api|matmul overrides, for
    /// benchmarks): where its implementation is brgemm, which the dnnl_gemm_u8s8s32 API does not use.
    public static let int8UsesMatmul: Bool = {
        if let text = getenv("VOXENC_INT8_GEMM") {
            let value = String(cString: text)
            if value == "api" { return false }
            if value == "matmul" { return OneDNN.integerMatmulImplementation != nil }
        }
        return OneDNN.integerMatmulImplementation?.hasPrefix("brg") == true
    }()

    /// The int8 route (nil when int8 cannot run here: no oneDNN, or a CPU below AVX2).
    public static var int8Route: Route? {
        guard case .success(let support) = IntegerGEMM.support else { return nil }
        if int8UsesMatmul {
            return Route(precision: Precision.int8.rawValue, backend: "oneDNN matmul, packed s8 weights",
                         kernel: OneDNN.integerMatmulImplementation ?? "?",
                         reason: "oneDNN has brgemm kernels for u8×s8 here", isSlow: false)
        }
        return Route(precision: Precision.int8.rawValue, backend: "oneDNN dnnl_gemm_u8s8s32", kernel: support.instructionSet,
                     reason: "oneDNN's matmul has no brgemm u8×s8 kernels here", isSlow: false)
    }

    /// The GEMM routes this build holds, whatever the CPU (Package.swift): "openblas" always; with oneDNN also
    /// "onednn" (dnnl_sgemm), "onednn-matmul" (float32 on packed weights), "bf16" and "int8". `voxenc info --json`
    /// reports them as "compiled_routes"; the test run fails where one the README promises is missing.
    public static var compiledRoutes: [String] {
        [FloatGEMM.openBLAS.rawValue]
            + (OneDNN.isAvailable ? [FloatGEMM.oneDNN.rawValue, FloatGEMM.oneDNNMatmul.rawValue,
                                     Precision.bfloat16.rawValue, Precision.int8.rawValue] : [])
    }

    /// Every precision's route, for `voxenc info` and `voxenc bench`.
    public static func routes(float32 requested: FloatGEMM? = nil) -> [Route] {
        [float32Route(requested)] + [bfloat16Route, int8Route].compactMap { $0 }
    }

    /// Lines for stderr when a slow path is forced (empty when all is well).
    public static func warnings(float32 requested: FloatGEMM? = nil) -> [String] {
        let route = float32Route(requested)
        guard route.isSlow else { return [] }
        return ["warning: float32 GEMMs run \(route.backend) with \(route.kernel) kernels on a CPU with "
            + "\(CPU.current.vectorLevel) (\(route.reason)); expect several times slower. "
            + "Unset VOXENC_GEMM / OPENBLAS_CORETYPE or drop --gemm to let voxenc choose."]
    }
}
