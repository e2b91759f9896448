// The Voxtral adapter ("multi_modal_projector", vLLM "audio_language_adapter").
// Reference: transformers VoxtralForConditionalGeneration.get_audio_features: last_hidden_state
// .reshape(-1, 4·D) → linear_1 (no bias) → GELU (exact erf) → linear_2 (no bias). SPEC.md §3.
// Row-major stacking: row r = [h(4r) | h(4r+1) | h(4r+2) | h(4r+3)], which is the encoder output's own memory.

public struct Adapter: Sendable {
    public let weights: AdapterWeights

    public init(weights: AdapterWeights) { self.weights = weights }

    /// encoder states [frames, D] (frames a multiple of the stack factor) → [frames / 4, Dt].
    /// `scratch` holds at least (frames / 4) · Dt floats. Cost: 2·R·Dt·(4D + Dt) flops, R = frames / 4.
    public func apply(encoderStates: UnsafePointer<Float>, frames: Int, scratch: UnsafeMutablePointer<Float>,
                      into output: UnsafeMutablePointer<Float>) {
        let c = weights.configuration
        precondition(frames % c.stackFactor == 0, "frames must be a multiple of the stack factor")
        let rows = frames / c.stackFactor
        Linear.apply(weights.linear1, input: encoderStates, rows: rows, into: scratch)
        GELU.applyInPlace(scratch, count: rows * c.outputDimension)
        Linear.apply(weights.linear2, input: scratch, rows: rows, into: output)
    }
}
