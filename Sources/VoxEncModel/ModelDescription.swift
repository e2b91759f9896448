// What a loaded model is: where it came from, its shapes, and a digest of the weights it computes with.

/// A summary of a loaded model, small enough to print or to store next to embeddings.
public struct ModelDescription: Sendable, Codable, Equatable {
    /// The model directory as given to the loader.
    public var path: String
    public var layout: CheckpointLayout
    public var encoder: EncoderConfiguration
    /// nil for a bare Whisper encoder.
    public var adapter: AdapterConfiguration?
    /// dtype of the stored weights used, lowercase ("bf16", "f16", "f32"), or "mixed". The positional table is not
    /// counted (HF Voxtral stores it in F32 next to bf16 weights; transformers keeps it in float32). Quantized
    /// CTranslate2 models use CTranslate2's names: "int8" (float32 biases and norms), "int8_float16",
    /// "int8_bfloat16", "int16".
    public var storedDType: String
    /// Learned parameters used (weights and biases of encoder and adapter, as stored: no positional table, no
    /// quantization scales). Safetensors layouts store q/k/v separately with no k bias; CTranslate2 stores them fused
    /// with a [3D] bias whose D zeros for k are counted, so the same Whisper counts layers·D more there.
    public var parameterCount: Int
    /// SHA-256 (hex, v1) over the stored bytes of the tensors used, in a fixed role order, each with its dtype and
    /// shape; a computed positional table enters as float32; a quantized CTranslate2 weight's bytes are followed by
    /// its scale's. Reproducible with hashlib; the exact definition is in WeightReader.swift. Equal digests mean
    /// bit-identical weights (a model and its copy in another layout differ: names, order and fusion differ).
    public var digest: String

    public init(path: String, layout: CheckpointLayout, encoder: EncoderConfiguration, adapter: AdapterConfiguration?,
                storedDType: String, parameterCount: Int, digest: String) {
        self.path = path
        self.layout = layout
        self.encoder = encoder
        self.adapter = adapter
        self.storedDType = storedDType
        self.parameterCount = parameterCount
        self.digest = digest
    }
}
