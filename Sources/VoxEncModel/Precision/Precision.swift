// The arithmetic of the large GEMMs (docs/precision.md). Everything else (attention, softmax, LayerNorm, GELU,
// residuals, the conv stem) is float32 in both.

/// How the encoder's and adapter's large GEMMs are computed.
public enum Precision: String, Sendable, CaseIterable, Codable {
    /// float32 throughout (OpenBLAS sgemm): the reference's arithmetic. The default.
    case float32 = "f32"
    /// int8: QKV, out_proj, fc1, fc2 (every encoder layer but the first, whose error the others amplify) and the
    /// adapter's linears with weights quantised once at load (symmetric, per output channel) and activations quantised
    /// per row at run time (u8, scale and zero point per row), multiplied in int32 by oneDNN and dequantised in float32.
    case int8
    /// bf16: every GEMM — the conv stem, Linear layers, attention's q·kᵀ and P·v — as oneDNN matmuls with bf16
    /// operands (weights rounded to nearest even once at load, activations on each call) and float32 accumulation,
    /// but in the first encoder layer (PrecisionPolicy.floatLayers); LayerNorm, softmax, GELU, biases and residuals in
    /// float32. Needs native bf16 (AVX512-BF16 or AMX-BF16): no slow emulation.
    case bfloat16 = "bf16"

    /// Throws when this precision cannot run in this process (int8 without oneDNN, or on a CPU below AVX2; bf16
    /// without oneDNN or native bf16 instructions).
    public func checkSupported() throws(PrecisionError) {
        switch self {
        case .float32: return
        case .int8: _ = try IntegerGEMM.support.get()
        case .bfloat16: try GEMMRouting.checkBFloat16()
        }
    }

    /// Whether this precision runs fast on this CPU (`voxenc info`).
    public var isSupported: Bool {
        do { try checkSupported(); return true } catch { return false }
    }
}
