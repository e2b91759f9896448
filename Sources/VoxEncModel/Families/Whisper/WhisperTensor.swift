// The roles of a Whisper-style encoder's (and the Voxtral adapter's) stored tensors. Each layout's table
// (WhisperTensorNames) maps the roles it stores to its checkpoint names, as whisper.cpp maps `enum asr_tensor` through
// `ASR_TENSOR_NAMES` (src/whisper-arch.h); a role a layout does not store is absent from its table.
// The cases are declared in the digest's order (WeightReader.swift): the loader's recipe (EncoderTensors) reads the
// roles a layout stores in this order, the per-layer ones once per layer. Reordering them changes every digest.

/// One stored tensor's role. Names follow the HF module names camelCased (STYLE §7); per-layer roles start with
/// `layer` and their names hold `{i}` for the layer index.
public enum WhisperTensor: CaseIterable, Sendable {
    /// Conv1d [D, M, 3] and [D, D, 3] (PyTorch's layout), and their biases [D].
    case conv1Weight, conv1Bias
    case conv2Weight, conv2Bias
    /// The positional table [P, D]; Mistral stores none (computed, SPEC.md §2.2).
    case embedPositionsWeight

    case layerSelfAttnLayerNormWeight, layerSelfAttnLayerNormBias
    /// q, k and v stored apart (the safetensors layouts); no layout stores a k bias.
    case layerQProjWeight, layerQProjBias, layerKProjWeight, layerVProjWeight, layerVProjBias
    /// q | k | v stored fused by rows, [3D, D], with a [3D] bias holding zeros for k (CTranslate2's
    /// `self_attention/linear_0`, converters/utils.py `fuse_linear`).
    case layerQKVProjWeight, layerQKVProjBias
    case layerOutProjWeight, layerOutProjBias
    case layerFinalLayerNormWeight, layerFinalLayerNormBias
    case layerFc1Weight, layerFc1Bias
    case layerFc2Weight, layerFc2Bias

    /// The encoder's last LayerNorm (HF `layer_norm`, after the layers).
    case encoderLayerNormWeight, encoderLayerNormBias
    /// The adapter's bias-free linear_1 [Dt, 4D] and linear_2 [Dt, Dt]; only Voxtral has them.
    case adapterLinear1Weight, adapterLinear2Weight
    /// CTranslate2's `num_heads`, an int16 scalar: read for the configuration, not a weight, never hashed.
    case numHeads

    /// Stored once per encoder layer.
    public var isPerLayer: Bool {
        switch self {
        case .layerSelfAttnLayerNormWeight, .layerSelfAttnLayerNormBias,
             .layerQProjWeight, .layerQProjBias, .layerKProjWeight, .layerVProjWeight, .layerVProjBias,
             .layerQKVProjWeight, .layerQKVProjBias, .layerOutProjWeight, .layerOutProjBias,
             .layerFinalLayerNormWeight, .layerFinalLayerNormBias,
             .layerFc1Weight, .layerFc1Bias, .layerFc2Weight, .layerFc2Bias:
            true
        case .conv1Weight, .conv1Bias, .conv2Weight, .conv2Bias, .embedPositionsWeight,
             .encoderLayerNormWeight, .encoderLayerNormBias, .adapterLinear1Weight, .adapterLinear2Weight, .numHeads:
            false
        }
    }
}
