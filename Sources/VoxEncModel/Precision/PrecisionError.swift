// Why a precision (`--precision int8`, `--precision bf16`) cannot run here, or cannot quantise or pack these weights. `hint` says what to do instead.

public enum PrecisionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// This build has no oneDNN (libdnnl-dev was not installed, or VOXENC_ONEDNN=0): no integer GEMM.
    case oneDNNUnavailable
    /// oneDNN's instruction set here (e.g. "sse41") has no fast 8-bit dot product: int8 would be slower than float32.
    case instructionSetTooOld(found: String)
    /// A product of reduction length `length` could overflow the int32 accumulators (255 · 127 · k ≥ 2³¹).
    case reductionTooLong(tensor: String, length: Int, limit: Int)
    /// Row `row` of a weight holds NaN or infinity: it has no scale (weights in memory; the loaders reject such files).
    case nonFiniteWeight(tensor: String, row: Int)
    /// bf16 needs native bf16 multiplies (AVX512-BF16 or AMX-BF16) through oneDNN; `found` says what is here.
    case bfloat16Unsupported(found: String)
    /// oneDNN refused to pack a weight for its matmul (message from oneDNN's status).
    case packingFailed(String)
    /// The model's family has no kernels for this precision (Voxtral Realtime: float32 and bf16 only).
    case unsupportedByFamily(precision: String, family: String)

    public var description: String {
        switch self {
        case .oneDNNUnavailable:
            return "--precision int8 needs oneDNN, and this build of voxenc was made without it"
        case .instructionSetTooOld(let found):
            return "--precision int8 needs AVX2 or newer; oneDNN reports \(found) on this CPU"
        case .reductionTooLong(let tensor, let length, let limit):
            return "--precision int8 cannot quantise \(tensor): its input width \(length) exceeds \(limit), "
                + "beyond which int32 accumulators may overflow"
        case .nonFiniteWeight(let tensor, let row):
            return "--precision int8 cannot quantise \(tensor): row \(row) holds NaN or infinity"
        case .bfloat16Unsupported(let found):
            return "--precision bf16 needs a CPU with native bf16 (AVX512-BF16 or AMX-BF16) and oneDNN; \(found)"
        case .unsupportedByFamily(let precision, let family):
            return "--precision \(precision) is not available for \(family) models (float32 and bf16 are)"
        case .packingFailed(let reason):
            return "oneDNN could not prepare a weight matrix: \(reason)"
        }
    }

    public var hint: String? {
        switch self {
        case .oneDNNUnavailable:
            return "install libdnnl-dev (`apt-get install -y libdnnl-dev`) and rebuild, or use --precision f32"
        case .instructionSetTooOld, .reductionTooLong, .nonFiniteWeight, .unsupportedByFamily:
            return "use --precision f32"
        case .bfloat16Unsupported(let found) where found.contains("without oneDNN"):
            return "install libdnnl-dev (`apt-get install -y libdnnl-dev`) and rebuild, or use --precision f32"
        case .bfloat16Unsupported:
            return "use --precision f32 (or int8 where `voxenc info` lists it)"
        case .packingFailed:
            return "use --gemm openblas or onednn (sgemm on the weights as loaded)"
        }
    }
}
