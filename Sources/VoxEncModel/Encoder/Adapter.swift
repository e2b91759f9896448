// The Voxtral adapter ("multi_modal_projector", vLLM "audio_language_adapter").
// Reference: transformers VoxtralForConditionalGeneration.get_audio_features: last_hidden_state
// .reshape(-1, 4·D) → linear_1 (no bias) → GELU (exact erf) → linear_2 (no bias). SPEC.md §3.
// Row-major stacking: row r = [h(4r) | h(4r+1) | h(4r+2) | h(4r+3)], which is the encoder output's own memory.

public struct Adapter: Sendable {
    /// The float32 weights; with `.int8` the two matrices are released (empty), `quantised` holds them.
    public let weights: AdapterWeights
    /// The linears in int8 (`.int8` only), quantised once here.
    public let quantised: QuantisedAdapterWeights?
    /// How the two linears run (docs/precision.md).
    public var precision: Precision { quantised == nil ? .float32 : .int8 }
    /// The float32 GEMM backend (GEMMRouting decides).
    public let gemm: FloatGEMM

    /// float32.
    public init(weights: AdapterWeights, gemm: FloatGEMM = GEMMRouting.float32) {
        self.weights = weights
        self.quantised = nil
        self.gemm = gemm
    }

    /// `.int8` quantises both linears now and releases their float32 matrices; it throws where int8 cannot run.
    public init(weights: AdapterWeights, precision: Precision,
                gemm: FloatGEMM = GEMMRouting.float32) throws(QuantisationError) {
        self.gemm = gemm
        switch precision {
        case .float32:
            self.weights = weights
            quantised = nil
        case .int8:
            quantised = try QuantisedAdapterWeights(quantising: weights, levels: IntegerGEMM.support.get().weightLevels)
            var released = weights
            released.linear1.weight = []
            released.linear2.weight = []
            self.weights = released
        }
    }

    /// encoder states [frames, D] (frames a multiple of the stack factor) → [frames / 4, Dt]. `chunkFrames` (1500)
    /// makes the GEMMs' row blocks chunk-relative (RowBlocks): a chunk's rows never depend on its batch.
    /// `scratch` holds at least (frames / 4) · Dt floats; `quantisation` (int8 only) fits (frames / 4) × max(4D, Dt)
    /// → Dt (`quantisationShape`). Cost: 2·R·Dt·(4D + Dt) flops, R = frames / 4.
    public func apply(encoderStates: UnsafePointer<Float>, frames: Int, chunkFrames: Int,
                      scratch: UnsafeMutablePointer<Float>,
                      quantisation: QuantisationScratch? = nil, into output: UnsafeMutablePointer<Float>) {
        let c = weights.configuration
        precondition(frames % c.stackFactor == 0, "frames must be a multiple of the stack factor")
        let rows = frames / c.stackFactor
        if let quantised {
            precondition(quantisation != nil, "an int8 adapter needs a quantisation scratch")
            QuantisedLinear.apply(quantised.linear1, input: encoderStates, rows: rows, scratch: quantisation!, into: scratch,
                                  gelu: true)
            QuantisedLinear.apply(quantised.linear2, input: scratch, rows: rows, scratch: quantisation!, into: output)
        } else {
            let rowsPerChunk = chunkFrames / c.stackFactor
            Linear.apply(weights.linear1, gemm: gemm, input: encoderStates, rows: rows, rowsPerChunk: rowsPerChunk,
                         into: scratch)
            GELU.applyInPlace(scratch, count: rows * c.outputDimension)
            Linear.apply(weights.linear2, gemm: gemm, input: scratch, rows: rows, rowsPerChunk: rowsPerChunk,
                         into: output)
        }
    }

    /// The quantisation scratch `apply` needs for `frames` encoder states: rows, widest k, widest n.
    public func quantisationShape(frames: Int) -> (rows: Int, inputWidth: Int, outputWidth: Int) {
        let c = weights.configuration
        return (frames / c.stackFactor, max(c.inputDimension, c.outputDimension), c.outputDimension)
    }
}
