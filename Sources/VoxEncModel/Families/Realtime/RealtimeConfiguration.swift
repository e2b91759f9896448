// Hyperparameters of a Voxtral Realtime audio encoder and adapter, in Swift names, read from either published layout.
// Reference: transformers VoxtralRealtimeEncoderConfig / VoxtralRealtimeConfig (configuration_voxtral_realtime.py,
// 5.25) for config.json; the Mistral params.json keys as the official conversion script
// (convert_voxtral_realtime_weights_to_hf.py) reads them; mistral-common's audio encoder for the padding tokens.
// Letters: D model width, H heads, Dh head width, A = H·Dh attention width, F feed-forward width, W window,
// Dt adapter (language model) width.

public struct RealtimeConfiguration: Sendable, Equatable, Hashable, Codable {
    public var melBinCount: Int
    public var modelDimension: Int
    public var layerCount: Int
    public var headCount: Int
    public var headDimension: Int
    public var feedForwardDimension: Int
    /// Keys a query sees, itself included (750: 15 s).
    public var slidingWindow: Int
    /// RoPE base, from the checkpoint (1e6 for Voxtral Mini 4B Realtime; the class default 1e4 is never assumed).
    public var ropeTheta: Double
    public var normEpsilon: Float
    /// Encoder frames stacked per adapter row (4) and the adapter's output width (Dt).
    public var stackFactor: Int
    public var adapterDimension: Int
    /// The feature extractor's fixed clamp top (global_log_mel_max, 1.5).
    public var globalLogMelMax: Float
    /// Silent tokens before the audio (mistral-common streaming_n_left_pad_tokens, 32).
    public var leftPadTokens: Int
    /// Offline only: silent tokens after the audio, rounded up to whole tokens (delay + 1 + 10 = 17).
    public var rightPadTokens: Int

    public var attentionWidth: Int { headCount * headDimension }

    /// 16 kHz samples per token (80 ms): 8 mel frames of 160 samples.
    public static let samplesPerToken = 1280
    /// Mel frames per token; encoder positions per token (the stride-2 conv halves 8 to 4) = the stack factor.
    public static let melFramesPerToken = 8

    /// Why these numbers cannot run, or nil.
    public var inconsistency: String? {
        if melBinCount <= 0 || modelDimension <= 0 || layerCount < 0 || headCount <= 0 || headDimension <= 0
            || feedForwardDimension <= 0 || slidingWindow <= 0 || adapterDimension <= 0 {
            return "dimensions must be positive"
        }
        if headDimension % 2 != 0 { return "head_dim \(headDimension) must be even (rotary embedding)" }
        if stackFactor != 4 { return "downsample_factor \(stackFactor): one token is 4 encoder frames" }
        if !(ropeTheta > 1) || !ropeTheta.isFinite { return "rope_theta \(ropeTheta) must be a finite number above 1" }
        if !(normEpsilon > 0) { return "rms_norm_eps must be positive" }
        if leftPadTokens < 0 || rightPadTokens < 0 { return "padding tokens must not be negative" }
        if modelDimension > 1 << 16 || feedForwardDimension > 1 << 18 || layerCount > 1024 || attentionWidth > 1 << 16
            || slidingWindow > 1 << 20 {
            return "dimensions are implausibly large"
        }
        return nil
    }

    /// The Whisper-shaped summary `ModelDescription` carries (maxPositions = the window).
    var encoderSummary: EncoderConfiguration {
        EncoderConfiguration(melBinCount: melBinCount, modelDimension: modelDimension, layerCount: layerCount,
                             headCount: headCount, feedForwardDimension: feedForwardDimension,
                             maxPositions: slidingWindow, layerNormEpsilon: normEpsilon)
    }

    var adapterSummary: AdapterConfiguration {
        AdapterConfiguration(stackFactor: stackFactor, inputDimension: stackFactor * modelDimension,
                             outputDimension: adapterDimension)
    }
}
