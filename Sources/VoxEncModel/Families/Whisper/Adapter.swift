// The Voxtral adapter ("multi_modal_projector", vLLM "audio_language_adapter").
// Reference: transformers VoxtralForConditionalGeneration.get_audio_features: last_hidden_state
// .reshape(-1, 4·D) → linear_1 (no bias) → GELU (exact erf) → linear_2 (no bias). SPEC.md §3.
// Row-major stacking: row r = [h(4r) | h(4r+1) | h(4r+2) | h(4r+3)], which is the encoder output's own memory.

public struct Adapter: Sendable {
    /// The float32 weights; matrices a kernel holds in another form (int8, packed) are released (empty).
    public let weights: AdapterWeights
    /// The linears in int8 (`.int8` only), quantised once here.
    public let quantised: QuantisedAdapterWeights?
    /// How the two linears run (docs/precision.md).
    public let policy: PrecisionPolicy
    public var precision: Precision { policy.precision }
    /// linear_1 and linear_2 in their precision (LinearKernel).
    let kernels: (linear1: LinearKernel, linear2: LinearKernel)

    /// float32 on a BLAS route (never throws there).
    public init(weights: AdapterWeights, gemm: FloatGEMM = .openBLAS) {
        precondition(gemm != .oneDNNMatmul, "packing may fail: use the throwing initialiser")
        try! self.init(weights: weights, precision: .float32, gemm: gemm)
    }

    /// Makes both linears' kernels for `precision` and releases the float32 matrices no kernel reads; throws where
    /// the precision cannot run here.
    public init(weights: consuming AdapterWeights, precision: Precision,
                gemm: FloatGEMM = GEMMRouting.float32) throws(PrecisionError) {
        try self.init(weights: consume weights, policy: PrecisionPolicy(precision: precision, gemm: gemm))
    }

    /// Makes both linears' kernels as `policy` says for the adapter, and releases the float32 matrices no kernel reads.
    public init(weights: consuming AdapterWeights, policy: PrecisionPolicy) throws(PrecisionError) {
        var released = consume weights
        self.policy = policy
        switch policy.linear(at: .adapter) {
        case .int8(let levels):
            let quantised = try QuantisedAdapterWeights(quantising: released, levels: levels)
            self.quantised = quantised
            kernels = (.int8(quantised.linear1), .int8(quantised.linear2))
            released.linear1.weight = []
            released.linear2.weight = []
        case .route(let route):
            quantised = nil
            do {
                // Each float32 matrix released as soon as its kernel holds it in another form.
                let linear1 = try LinearKernel.make(released.linear1, route: route)
                if !linear1.readsFloatWeights { released.linear1.weight = [] }
                let linear2 = try LinearKernel.make(released.linear2, route: route)
                if !linear2.readsFloatWeights { released.linear2.weight = [] }
                kernels = (linear1, linear2)
            } catch {
                throw .packingFailed(error.description)
            }
        }
        self.weights = released
    }

    /// encoder states [frames, D] (frames a multiple of the stack factor) → [frames / 4, Dt]. `chunkFrames` (1500)
    /// makes the GEMMs' row blocks chunk-relative (RowBlocks): a chunk's rows never depend on its batch.
    /// `scratch` holds at least (frames / 4) · Dt floats; `quantisation` (int8 only) fits (frames / 4) × max(4D, Dt)
    /// → Dt (`quantisationShape`). Cost: 2·R·Dt·(4D + Dt) flops, R = frames / 4.
    public func apply(encoderStates: UnsafePointer<Float>, frames: Int, chunkFrames: Int,
                      scratch: UnsafeMutablePointer<Float>, quantisation: QuantisationScratch? = nil,
                      into output: UnsafeMutablePointer<Float>) {
        let c = weights.configuration
        precondition(frames % c.stackFactor == 0, "frames must be a multiple of the stack factor")
        let rows = frames / c.stackFactor
        let rowsPerChunk = chunkFrames / c.stackFactor
        kernels.linear1.apply(input: encoderStates, rows: rows, rowsPerChunk: rowsPerChunk, scratch: quantisation,
                              into: scratch, gelu: true)
        kernels.linear2.apply(input: scratch, rows: rows, rowsPerChunk: rowsPerChunk, scratch: quantisation,
                              into: output)
    }

    /// The quantisation scratch `apply` needs for `frames` encoder states: rows, widest k, widest n.
    public func quantisationShape(frames: Int) -> (rows: Int, inputWidth: Int, outputWidth: Int) {
        let c = weights.configuration
        return (frames / c.stackFactor, max(c.inputDimension, c.outputDimension), c.outputDimension)
    }
}
