// THE table of checkpoint tensor names, one entry per layout. Every name the loaders read is spelled here once.
// Reference: SPEC.md §4.1 (HF Voxtral, as saved by transformers 4.54+; convert_voxtral_weights_to_hf.py
// STATE_DICT_MAPPING), §4.2 (Mistral consolidated.safetensors; vLLM VoxtralEncoderModel.mistral_remapping),
// §4.4 (HF Whisper, modeling_whisper module names); CTranslate2 WhisperSpec variables (ctranslate2
// specs/whisper_spec.py `WhisperEncoderSpec`, transformer_spec.py `TransformerEncoderLayerSpec`, as filled by
// converters/transformers.py `WhisperLoader`). Layer names use the placeholder `{i}` for the layer index.

/// The names of one encoder layer's tensors. Fields follow the HF module names camelCased (STYLE §7).
public struct LayerTensorNames: Sendable, Equatable {
    public var selfAttnLayerNormWeight, selfAttnLayerNormBias: String
    public var qProjWeight, qProjBias: String
    /// No k bias in any layout.
    public var kProjWeight: String
    public var vProjWeight, vProjBias: String
    public var outProjWeight, outProjBias: String
    public var finalLayerNormWeight, finalLayerNormBias: String
    public var fc1Weight, fc1Bias: String
    public var fc2Weight, fc2Bias: String

    /// All fifteen names, in the loader's order.
    public var all: [String] {
        [selfAttnLayerNormWeight, selfAttnLayerNormBias, qProjWeight, qProjBias, kProjWeight, vProjWeight, vProjBias,
         outProjWeight, outProjBias, finalLayerNormWeight, finalLayerNormBias, fc1Weight, fc1Bias, fc2Weight, fc2Bias]
    }

    func substituting(layer index: Int) -> LayerTensorNames {
        func name(_ template: String) -> String { template.replacingOccurrences(of: "{i}", with: String(index)) }
        return LayerTensorNames(
            selfAttnLayerNormWeight: name(selfAttnLayerNormWeight), selfAttnLayerNormBias: name(selfAttnLayerNormBias),
            qProjWeight: name(qProjWeight), qProjBias: name(qProjBias), kProjWeight: name(kProjWeight),
            vProjWeight: name(vProjWeight), vProjBias: name(vProjBias),
            outProjWeight: name(outProjWeight), outProjBias: name(outProjBias),
            finalLayerNormWeight: name(finalLayerNormWeight), finalLayerNormBias: name(finalLayerNormBias),
            fc1Weight: name(fc1Weight), fc1Bias: name(fc1Bias), fc2Weight: name(fc2Weight), fc2Bias: name(fc2Bias))
    }
}

/// The names of the encoder's (and the adapter's) tensors in one checkpoint layout.
public struct TensorNames: Sendable, Equatable {
    public var conv1Weight, conv1Bias: String
    public var conv2Weight, conv2Bias: String
    /// `embed_positions.weight`, or nil when the layout stores no table (Mistral: computed, SPEC.md §2.2).
    public var embedPositionsWeight: String?
    /// Per-layer names with `{i}` for the index; use `layer(_:)`.
    public var layerTemplate: LayerTensorNames
    public var layerNormWeight, layerNormBias: String
    /// The adapter's `linear_1` / `linear_2` weights (bias-free), or nil for a bare Whisper encoder.
    public var linear1Weight, linear2Weight: String?
    /// Prefixes of the tensors that belong to the audio path; the rest (text model, Whisper decoder) is skipped on
    /// purpose, while an unread tensor under these prefixes is reported.
    public var audioPrefixes: [String]

    public func layer(_ index: Int) -> LayerTensorNames { layerTemplate.substituting(layer: index) }

    /// The safetensors layouts' table; nil for CTranslate2, whose fused q/k/v have their own table
    /// (`CTranslate2TensorNames.whisper`).
    public static func `for`(_ layout: CheckpointLayout) -> TensorNames? {
        switch layout {
        case .huggingFaceVoxtral: return .huggingFaceVoxtral
        case .mistralVoxtral: return .mistralVoxtral
        case .huggingFaceWhisper: return .huggingFaceWhisper
        default: return nil  // CTranslate2 (its own table)
        }
    }

    /// SPEC.md §4.1.
    public static let huggingFaceVoxtral = TensorNames(
        conv1Weight: "audio_tower.conv1.weight", conv1Bias: "audio_tower.conv1.bias",
        conv2Weight: "audio_tower.conv2.weight", conv2Bias: "audio_tower.conv2.bias",
        embedPositionsWeight: "audio_tower.embed_positions.weight",
        layerTemplate: LayerTensorNames(
            selfAttnLayerNormWeight: "audio_tower.layers.{i}.self_attn_layer_norm.weight",
            selfAttnLayerNormBias: "audio_tower.layers.{i}.self_attn_layer_norm.bias",
            qProjWeight: "audio_tower.layers.{i}.self_attn.q_proj.weight",
            qProjBias: "audio_tower.layers.{i}.self_attn.q_proj.bias",
            kProjWeight: "audio_tower.layers.{i}.self_attn.k_proj.weight",
            vProjWeight: "audio_tower.layers.{i}.self_attn.v_proj.weight",
            vProjBias: "audio_tower.layers.{i}.self_attn.v_proj.bias",
            outProjWeight: "audio_tower.layers.{i}.self_attn.out_proj.weight",
            outProjBias: "audio_tower.layers.{i}.self_attn.out_proj.bias",
            finalLayerNormWeight: "audio_tower.layers.{i}.final_layer_norm.weight",
            finalLayerNormBias: "audio_tower.layers.{i}.final_layer_norm.bias",
            fc1Weight: "audio_tower.layers.{i}.fc1.weight", fc1Bias: "audio_tower.layers.{i}.fc1.bias",
            fc2Weight: "audio_tower.layers.{i}.fc2.weight", fc2Bias: "audio_tower.layers.{i}.fc2.bias"),
        layerNormWeight: "audio_tower.layer_norm.weight", layerNormBias: "audio_tower.layer_norm.bias",
        linear1Weight: "multi_modal_projector.linear_1.weight", linear2Weight: "multi_modal_projector.linear_2.weight",
        audioPrefixes: ["audio_tower.", "multi_modal_projector."])

    /// SPEC.md §4.2: the same tensors renamed (values and layouts identical); no positional table.
    public static let mistralVoxtral = TensorNames(
        conv1Weight: "mm_whisper_embeddings.whisper_encoder.conv_layers.0.weight",
        conv1Bias: "mm_whisper_embeddings.whisper_encoder.conv_layers.0.bias",
        conv2Weight: "mm_whisper_embeddings.whisper_encoder.conv_layers.1.weight",
        conv2Bias: "mm_whisper_embeddings.whisper_encoder.conv_layers.1.bias",
        embedPositionsWeight: nil,
        layerTemplate: LayerTensorNames(
            selfAttnLayerNormWeight: "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.attention_norm.weight",
            selfAttnLayerNormBias: "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.attention_norm.bias",
            qProjWeight: "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.attention.wq.weight",
            qProjBias: "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.attention.wq.bias",
            kProjWeight: "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.attention.wk.weight",
            vProjWeight: "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.attention.wv.weight",
            vProjBias: "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.attention.wv.bias",
            outProjWeight: "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.attention.wo.weight",
            outProjBias: "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.attention.wo.bias",
            finalLayerNormWeight: "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.ffn_norm.weight",
            finalLayerNormBias: "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.ffn_norm.bias",
            fc1Weight: "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.feed_forward.w1.weight",
            fc1Bias: "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.feed_forward.w1.bias",
            fc2Weight: "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.feed_forward.w2.weight",
            fc2Bias: "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.feed_forward.w2.bias"),
        layerNormWeight: "mm_whisper_embeddings.whisper_encoder.transformer.norm.weight",
        layerNormBias: "mm_whisper_embeddings.whisper_encoder.transformer.norm.bias",
        linear1Weight: "mm_whisper_embeddings.audio_language_projection.0.weight",
        linear2Weight: "mm_whisper_embeddings.audio_language_projection.2.weight",
        audioPrefixes: ["mm_whisper_embeddings.whisper_encoder.", "mm_whisper_embeddings.audio_language_projection."])

    /// SPEC.md §4.4: WhisperForConditionalGeneration's encoder; no adapter.
    public static let huggingFaceWhisper = TensorNames(
        conv1Weight: "model.encoder.conv1.weight", conv1Bias: "model.encoder.conv1.bias",
        conv2Weight: "model.encoder.conv2.weight", conv2Bias: "model.encoder.conv2.bias",
        embedPositionsWeight: "model.encoder.embed_positions.weight",
        layerTemplate: LayerTensorNames(
            selfAttnLayerNormWeight: "model.encoder.layers.{i}.self_attn_layer_norm.weight",
            selfAttnLayerNormBias: "model.encoder.layers.{i}.self_attn_layer_norm.bias",
            qProjWeight: "model.encoder.layers.{i}.self_attn.q_proj.weight",
            qProjBias: "model.encoder.layers.{i}.self_attn.q_proj.bias",
            kProjWeight: "model.encoder.layers.{i}.self_attn.k_proj.weight",
            vProjWeight: "model.encoder.layers.{i}.self_attn.v_proj.weight",
            vProjBias: "model.encoder.layers.{i}.self_attn.v_proj.bias",
            outProjWeight: "model.encoder.layers.{i}.self_attn.out_proj.weight",
            outProjBias: "model.encoder.layers.{i}.self_attn.out_proj.bias",
            finalLayerNormWeight: "model.encoder.layers.{i}.final_layer_norm.weight",
            finalLayerNormBias: "model.encoder.layers.{i}.final_layer_norm.bias",
            fc1Weight: "model.encoder.layers.{i}.fc1.weight", fc1Bias: "model.encoder.layers.{i}.fc1.bias",
            fc2Weight: "model.encoder.layers.{i}.fc2.weight", fc2Bias: "model.encoder.layers.{i}.fc2.bias"),
        layerNormWeight: "model.encoder.layer_norm.weight", layerNormBias: "model.encoder.layer_norm.bias",
        linear1Weight: nil, linear2Weight: nil,
        audioPrefixes: ["model.encoder."])
}

// MARK: - CTranslate2

/// One CTranslate2 Whisper encoder layer (`encoder/layer_{i}/…`). Fields are named by the HF role they fill; q, k and v
/// are stored fused, so there are 12 names instead of 15.
public struct CTranslate2LayerTensorNames: Sendable, Equatable {
    /// `self_attention/layer_norm/{gamma,beta}` = self_attn_layer_norm.{weight,bias}.
    public var selfAttnLayerNormWeight, selfAttnLayerNormBias: String
    /// `self_attention/linear_0/{weight,bias}`: q_proj, k_proj, v_proj concatenated by rows, [3D, D], and their
    /// biases [3D] with D zeros for k (converters/utils.py `fuse_linear`) — exactly `EncoderLayerWeights.qkvProj`.
    public var qkvProjWeight, qkvProjBias: String
    /// `self_attention/linear_1/{weight,bias}` = out_proj.
    public var outProjWeight, outProjBias: String
    /// `ffn/layer_norm/{gamma,beta}` = final_layer_norm.
    public var finalLayerNormWeight, finalLayerNormBias: String
    /// `ffn/linear_0/*` = fc1, `ffn/linear_1/*` = fc2.
    public var fc1Weight, fc1Bias: String
    public var fc2Weight, fc2Bias: String

    /// All twelve names, in the loader's (and the digest's) order.
    public var all: [String] {
        [selfAttnLayerNormWeight, selfAttnLayerNormBias, qkvProjWeight, qkvProjBias, outProjWeight, outProjBias,
         finalLayerNormWeight, finalLayerNormBias, fc1Weight, fc1Bias, fc2Weight, fc2Bias]
    }

    func substituting(layer index: Int) -> CTranslate2LayerTensorNames {
        func name(_ template: String) -> String { template.replacingOccurrences(of: "{i}", with: String(index)) }
        return CTranslate2LayerTensorNames(
            selfAttnLayerNormWeight: name(selfAttnLayerNormWeight), selfAttnLayerNormBias: name(selfAttnLayerNormBias),
            qkvProjWeight: name(qkvProjWeight), qkvProjBias: name(qkvProjBias),
            outProjWeight: name(outProjWeight), outProjBias: name(outProjBias),
            finalLayerNormWeight: name(finalLayerNormWeight), finalLayerNormBias: name(finalLayerNormBias),
            fc1Weight: name(fc1Weight), fc1Bias: name(fc1Bias), fc2Weight: name(fc2Weight), fc2Bias: name(fc2Bias))
    }
}

/// The encoder variables of a CTranslate2 WhisperSpec model.bin. Quantized weights also have `<name>_scale`.
public struct CTranslate2TensorNames: Sendable, Equatable {
    /// `conv{1,2}/weight` [D, M or D, 3] (PyTorch's Conv1d layout) and `/bias`.
    public var conv1Weight, conv1Bias: String
    public var conv2Weight, conv2Bias: String
    /// `position_encodings/encodings` [P, D]: transformers' embed_positions, stored (the converter copies it).
    public var embedPositionsWeight: String
    /// `num_heads`: an int16 scalar (whisper_spec.py; CTranslate2 defaults to 8 when it is absent).
    public var numHeads: String
    public var layerTemplate: CTranslate2LayerTensorNames
    /// `layer_norm/{gamma,beta}` = the final layer_norm.
    public var layerNormWeight, layerNormBias: String
    /// Every encoder variable starts with this; the decoder (`decoder/…`) is skipped on purpose.
    public var encoderPrefix: String
    /// `layer_{i}/`: layers are numbered from 0 without gaps.
    public var layerPrefix: String

    public func layer(_ index: Int) -> CTranslate2LayerTensorNames { layerTemplate.substituting(layer: index) }

    public static let whisper = CTranslate2TensorNames(
        conv1Weight: "encoder/conv1/weight", conv1Bias: "encoder/conv1/bias",
        conv2Weight: "encoder/conv2/weight", conv2Bias: "encoder/conv2/bias",
        embedPositionsWeight: "encoder/position_encodings/encodings",
        numHeads: "encoder/num_heads",
        layerTemplate: CTranslate2LayerTensorNames(
            selfAttnLayerNormWeight: "encoder/layer_{i}/self_attention/layer_norm/gamma",
            selfAttnLayerNormBias: "encoder/layer_{i}/self_attention/layer_norm/beta",
            qkvProjWeight: "encoder/layer_{i}/self_attention/linear_0/weight",
            qkvProjBias: "encoder/layer_{i}/self_attention/linear_0/bias",
            outProjWeight: "encoder/layer_{i}/self_attention/linear_1/weight",
            outProjBias: "encoder/layer_{i}/self_attention/linear_1/bias",
            finalLayerNormWeight: "encoder/layer_{i}/ffn/layer_norm/gamma",
            finalLayerNormBias: "encoder/layer_{i}/ffn/layer_norm/beta",
            fc1Weight: "encoder/layer_{i}/ffn/linear_0/weight", fc1Bias: "encoder/layer_{i}/ffn/linear_0/bias",
            fc2Weight: "encoder/layer_{i}/ffn/linear_1/weight", fc2Bias: "encoder/layer_{i}/ffn/linear_1/bias"),
        layerNormWeight: "encoder/layer_norm/gamma", layerNormBias: "encoder/layer_norm/beta",
        encoderPrefix: "encoder/", layerPrefix: "encoder/layer_")
}
