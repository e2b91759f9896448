// This machine as the engine sees it (`voxenc info`, the server's /v1/models, bug reports): the CPU and its vector
// instructions, the kernels OpenBLAS and oneDNN picked, and the GEMM route of each precision with the reason.
// Read from GEMMRouting, the one place that decides; nothing here decides anything.

import VoxEncModel

#if canImport(Glibc)
import Glibc
#endif

public struct MachineSummary: Sendable {
    public let cpuBrand: String
    public let cpuVendor: String
    public let cpuFamily: Int
    public let cpuModel: Int
    /// CPUID feature names ("avx2", "avx512f", "avx512_bf16", "amx_bf16", …).
    public let features: [String]
    /// "sse", "avx", "avx2" or "avx512".
    public let vectorLevel: String
    /// One line: brand, cores, clock, vector level.
    public let cpuSummary: String
    public let cores: Int
    public let clockMHz: Double?
    /// The kernel OpenBLAS picked at load (e.g. "Cooperlake", "Haswell", "Prescott").
    public let openBLASCore: String
    /// oneDNN's instruction set, nil when voxenc was built without oneDNN.
    public let oneDNNInstructionSet: String?
    /// The copy of the element-wise C kernels this process runs: "avx512", "avx2" or "sse2" (VOXENC_KERNEL_ISA lowers it).
    public let elementwiseKernels: String
    /// The element-wise kernels' copies this build holds, and those this CPU can run (best first).
    public let compiledKernelCopies: [String]
    public let runnableKernelCopies: [String]
    /// The GEMM routes this build holds, whatever the CPU: "openblas", and with oneDNN "onednn", "onednn-matmul",
    /// "bf16", "int8".
    public let compiledRoutes: [String]
    /// The float32 route, then bf16's and int8's where they run here.
    public let routes: [GEMMRoute]
    /// Whether int8 runs here (oneDNN and AVX2 or newer).
    public let int8Runs: Bool

    /// The machine, with the float32 route `requested` would take (nil: chosen for this CPU).
    public init(float32 requested: FloatGEMM? = nil) {
        let cpu = CPU.current
        cpuBrand = cpu.brand
        cpuVendor = cpu.vendor
        cpuFamily = cpu.family
        cpuModel = cpu.model
        features = cpu.features
        vectorLevel = cpu.vectorLevel.description
        cpuSummary = cpu.summary
        cores = cpu.cores
        clockMHz = cpu.clockMHz
        openBLASCore = OpenBLAS.coreName
        oneDNNInstructionSet = OneDNN.instructionSet
        elementwiseKernels = ElementwiseKernels.instructionSet
        compiledKernelCopies = ElementwiseKernels.compiledInstructionSets
        runnableKernelCopies = ElementwiseKernels.supportedInstructionSets
        compiledRoutes = GEMMRouting.compiledRoutes
        routes = GEMMRouting.routes(float32: requested)
        int8Runs = GEMMRouting.int8Route != nil
    }

    /// Cores this process may use (sysconf(_SC_NPROCESSORS_ONLN)): the default thread count.
    public static var onlineCores: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// Lines for stderr when a slow float32 path is forced (empty when all is well).
    public static func warnings(float32 requested: FloatGEMM? = nil) -> [String] {
        GEMMRouting.warnings(float32: requested)
    }
}

extension ModelSummary {
    /// Describes the model in `directory` with the family that recognises it, reading every tensor and keeping none;
    /// `threads` sizes the activations.
    public static func read(directory: String, threads: Int) throws(VoxEncError) -> ModelSummary {
        do { return try EncoderFamilies.describe(directory: directory, threads: threads) } catch { throw .model(error) }
    }
}
