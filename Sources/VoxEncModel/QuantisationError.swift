// Why `--precision int8` cannot run. `hint` says what to do instead.

public enum QuantisationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// This build has no oneDNN (libdnnl-dev was not installed, or VOXENC_ONEDNN=0): no integer GEMM.
    case oneDNNUnavailable
    /// oneDNN's instruction set here (e.g. "sse41") has no fast 8-bit dot product: int8 would be slower than float32.
    case instructionSetTooOld(found: String)
    /// A product of reduction length `length` could overflow the int32 accumulators (255 · 127 · k ≥ 2³¹).
    case reductionTooLong(tensor: String, length: Int, limit: Int)
    /// Row `row` of a weight holds NaN or infinity: it has no scale (weights in memory; the loaders reject such files).
    case nonFiniteWeight(tensor: String, row: Int)

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
        }
    }

    public var hint: String? {
        switch self {
        case .oneDNNUnavailable:
            return "install libdnnl-dev (`apt-get install -y libdnnl-dev`) and rebuild, or use --precision f32"
        case .instructionSetTooOld, .reductionTooLong, .nonFiniteWeight:
            return "use --precision f32"
        }
    }
}
