// Hyperparameters of a Whisper-style encoder and of the Voxtral adapter, in Swift names.
// Checkpoint keys (HF VoxtralEncoderConfig / WhisperConfig / Mistral params.json) are mapped by the loaders.

/// The encoder's shape. Reference: transformers VoxtralEncoderConfig, WhisperConfig; SPEC.md §2.7, §4.3.
public struct EncoderConfiguration: Sendable, Equatable, Hashable, Codable {
    /// `num_mel_bins`: 128 (Voxtral, large-v3) or 80.
    public var melBinCount: Int
    /// `d_model` / `hidden_size` (D).
    public var modelDimension: Int
    /// `encoder_layers` / `num_hidden_layers`.
    public var layerCount: Int
    /// `encoder_attention_heads` / `num_attention_heads` (H).
    public var headCount: Int
    /// `encoder_ffn_dim` / `intermediate_size` (F).
    public var feedForwardDimension: Int
    /// `max_source_positions`: encoder frames per chunk (1500 = 3000 mel frames / 2).
    public var maxPositions: Int
    /// LayerNorm epsilon (torch nn.LayerNorm default 1e-5).
    public var layerNormEpsilon: Float

    public init(melBinCount: Int, modelDimension: Int, layerCount: Int, headCount: Int, feedForwardDimension: Int,
                maxPositions: Int = 1500, layerNormEpsilon: Float = 1e-5) {
        self.melBinCount = melBinCount
        self.modelDimension = modelDimension
        self.layerCount = layerCount
        self.headCount = headCount
        self.feedForwardDimension = feedForwardDimension
        self.maxPositions = maxPositions
        self.layerNormEpsilon = layerNormEpsilon
    }

    /// Dh = D / H.
    public var headDimension: Int { modelDimension / headCount }
    /// Mel frames per chunk the conv stem expects (2 · maxPositions).
    public var melFrameCount: Int { 2 * maxPositions }

    /// Why the shape cannot be run, or nil.
    public var inconsistency: String? {
        if melBinCount <= 0 || modelDimension <= 0 || layerCount < 0 || headCount <= 0 || feedForwardDimension <= 0
            || maxPositions <= 0 { return "dimensions must be positive" }
        if modelDimension % headCount != 0 { return "d_model \(modelDimension) is not a multiple of \(headCount) heads" }
        if modelDimension % 2 != 0 { return "d_model \(modelDimension) must be even (sinusoidal positions)" }
        if modelDimension > 1 << 16 || feedForwardDimension > 1 << 18 || layerCount > 1024 || maxPositions > 1 << 16 {
            return "dimensions are implausibly large"
        }
        return nil
    }

    /// Voxtral Mini / Small audio tower and Whisper large-v3 (SPEC.md §2.7).
    public static let voxtral = EncoderConfiguration(melBinCount: 128, modelDimension: 1280, layerCount: 32,
                                                     headCount: 20, feedForwardDimension: 5120)
    public static let whisperLargeV3 = voxtral
    public static let whisperBase = EncoderConfiguration(melBinCount: 80, modelDimension: 512, layerCount: 6,
                                                         headCount: 8, feedForwardDimension: 2048)
    public static let whisperTiny = EncoderConfiguration(melBinCount: 80, modelDimension: 384, layerCount: 4,
                                                         headCount: 6, feedForwardDimension: 1536)
}

/// The Voxtral adapter ("multi_modal_projector"): stack `stackFactor` frames → Linear → GELU → Linear.
public struct AdapterConfiguration: Sendable, Equatable, Hashable, Codable {
    /// Frames stacked per embedding (`downsample_factor`, 4).
    public var stackFactor: Int
    /// Width of a stacked row: stackFactor · D (5120 for Voxtral).
    public var inputDimension: Int
    /// The language model's hidden size (3072 Mini, 5120 Small).
    public var outputDimension: Int

    public init(stackFactor: Int = 4, inputDimension: Int, outputDimension: Int) {
        self.stackFactor = stackFactor
        self.inputDimension = inputDimension
        self.outputDimension = outputDimension
    }

    public static let voxtralMini = AdapterConfiguration(inputDimension: 5120, outputDimension: 3072)
    public static let voxtralSmall = AdapterConfiguration(inputDimension: 5120, outputDimension: 5120)
}
