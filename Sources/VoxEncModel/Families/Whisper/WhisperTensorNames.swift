// THE table of checkpoint tensor names: one role → name map per layout (roles: WhisperTensor). Every name the loaders
// read is spelled here once; a role missing from a layout's map is a tensor that layout does not store.
// Reference: SPEC.md §4.1 (HF Voxtral, as saved by transformers 4.54+; convert_voxtral_weights_to_hf.py
// STATE_DICT_MAPPING), §4.2 (Mistral consolidated.safetensors; vLLM VoxtralEncoderModel.mistral_remapping),
// §4.4 (HF Whisper, modeling_whisper module names); CTranslate2 WhisperSpec variables (ctranslate2
// specs/whisper_spec.py `WhisperEncoderSpec`, transformer_spec.py `TransformerEncoderLayerSpec`, as filled by
// converters/transformers.py `WhisperLoader`). Per-layer names use the placeholder `{i}` for the layer index.

/// The stored names of one checkpoint layout's encoder (and adapter) tensors.
public struct WhisperTensorNames: Sendable, Equatable {
    /// Role → stored name, `{i}` in the per-layer ones.
    public let names: [WhisperTensor: String]
    /// Prefixes of the tensors that belong to the audio path; the rest (text model, Whisper decoder) is skipped on
    /// purpose, while an unread tensor under these prefixes is reported.
    public let audioPrefixes: [String]

    init(audioPrefixes: [String], _ names: [WhisperTensor: String]) {
        for (role, name) in names {
            precondition(role.isPerLayer == name.contains("{i}"), "\(name): `{i}` is for per-layer roles only")
        }
        self.names = names
        self.audioPrefixes = audioPrefixes
    }

    /// The stored name of a role that is not per layer, or nil when the layout does not store it.
    public subscript(role: WhisperTensor) -> String? {
        precondition(!role.isPerLayer, "\(role) is per layer: give its layer index")
        return names[role]
    }

    /// The stored name of a per-layer role in layer `index`, or nil when the layout does not store it.
    public subscript(role: WhisperTensor, layer index: Int) -> String? {
        precondition(role.isPerLayer, "\(role) is not per layer")
        return names[role]?.replacingOccurrences(of: "{i}", with: String(index))
    }

    /// The name of a role the layout's own code needs (every layout stores the convolutions, LayerNorms, out_proj,
    /// fc1 and fc2): a table without it is a programmer error, so it traps.
    func required(_ role: WhisperTensor, layer index: Int? = nil) -> String {
        let name = if let index { self[role, layer: index] } else { self[role] }
        guard let name else { preconditionFailure("the table has no name for \(role)") }
        return name
    }

    /// What every per-layer name starts with, up to the layer index (CTranslate2: `encoder/layer_`).
    var layerPrefix: String {
        // fc1 is in every table, and every per-layer name holds `{i}` (checked in init).
        let template = names[.layerFc1Weight]!
        return String(template[..<template.range(of: "{i}")!.lowerBound])
    }

    public static func `for`(_ layout: CheckpointLayout) -> WhisperTensorNames {
        switch layout {
        case .huggingFaceVoxtral: .huggingFaceVoxtral
        case .mistralVoxtral: .mistralVoxtral
        case .huggingFaceWhisper: .huggingFaceWhisper
        case .ctranslate2Whisper: .ctranslate2Whisper
        default: preconditionFailure("\(layout) is not one of the Whisper family's layouts")
        }
    }

    /// SPEC.md §4.1.
    public static let huggingFaceVoxtral = WhisperTensorNames(
        audioPrefixes: ["audio_tower.", "multi_modal_projector."], [
            .conv1Weight: "audio_tower.conv1.weight", .conv1Bias: "audio_tower.conv1.bias",
            .conv2Weight: "audio_tower.conv2.weight", .conv2Bias: "audio_tower.conv2.bias",
            .embedPositionsWeight: "audio_tower.embed_positions.weight",
            .layerSelfAttnLayerNormWeight: "audio_tower.layers.{i}.self_attn_layer_norm.weight",
            .layerSelfAttnLayerNormBias: "audio_tower.layers.{i}.self_attn_layer_norm.bias",
            .layerQProjWeight: "audio_tower.layers.{i}.self_attn.q_proj.weight",
            .layerQProjBias: "audio_tower.layers.{i}.self_attn.q_proj.bias",
            .layerKProjWeight: "audio_tower.layers.{i}.self_attn.k_proj.weight",
            .layerVProjWeight: "audio_tower.layers.{i}.self_attn.v_proj.weight",
            .layerVProjBias: "audio_tower.layers.{i}.self_attn.v_proj.bias",
            .layerOutProjWeight: "audio_tower.layers.{i}.self_attn.out_proj.weight",
            .layerOutProjBias: "audio_tower.layers.{i}.self_attn.out_proj.bias",
            .layerFinalLayerNormWeight: "audio_tower.layers.{i}.final_layer_norm.weight",
            .layerFinalLayerNormBias: "audio_tower.layers.{i}.final_layer_norm.bias",
            .layerFc1Weight: "audio_tower.layers.{i}.fc1.weight", .layerFc1Bias: "audio_tower.layers.{i}.fc1.bias",
            .layerFc2Weight: "audio_tower.layers.{i}.fc2.weight", .layerFc2Bias: "audio_tower.layers.{i}.fc2.bias",
            .encoderLayerNormWeight: "audio_tower.layer_norm.weight",
            .encoderLayerNormBias: "audio_tower.layer_norm.bias",
            .adapterLinear1Weight: "multi_modal_projector.linear_1.weight",
            .adapterLinear2Weight: "multi_modal_projector.linear_2.weight",
        ])

    /// SPEC.md §4.2: the same tensors renamed (values and layouts identical); no positional table.
    public static let mistralVoxtral = WhisperTensorNames(
        audioPrefixes: ["mm_whisper_embeddings.whisper_encoder.", "mm_whisper_embeddings.audio_language_projection."], [
            .conv1Weight: "mm_whisper_embeddings.whisper_encoder.conv_layers.0.weight",
            .conv1Bias: "mm_whisper_embeddings.whisper_encoder.conv_layers.0.bias",
            .conv2Weight: "mm_whisper_embeddings.whisper_encoder.conv_layers.1.weight",
            .conv2Bias: "mm_whisper_embeddings.whisper_encoder.conv_layers.1.bias",
            .layerSelfAttnLayerNormWeight:
                "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.attention_norm.weight",
            .layerSelfAttnLayerNormBias:
                "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.attention_norm.bias",
            .layerQProjWeight: "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.attention.wq.weight",
            .layerQProjBias: "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.attention.wq.bias",
            .layerKProjWeight: "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.attention.wk.weight",
            .layerVProjWeight: "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.attention.wv.weight",
            .layerVProjBias: "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.attention.wv.bias",
            .layerOutProjWeight: "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.attention.wo.weight",
            .layerOutProjBias: "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.attention.wo.bias",
            .layerFinalLayerNormWeight: "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.ffn_norm.weight",
            .layerFinalLayerNormBias: "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.ffn_norm.bias",
            .layerFc1Weight: "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.feed_forward.w1.weight",
            .layerFc1Bias: "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.feed_forward.w1.bias",
            .layerFc2Weight: "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.feed_forward.w2.weight",
            .layerFc2Bias: "mm_whisper_embeddings.whisper_encoder.transformer.layers.{i}.feed_forward.w2.bias",
            .encoderLayerNormWeight: "mm_whisper_embeddings.whisper_encoder.transformer.norm.weight",
            .encoderLayerNormBias: "mm_whisper_embeddings.whisper_encoder.transformer.norm.bias",
            .adapterLinear1Weight: "mm_whisper_embeddings.audio_language_projection.0.weight",
            .adapterLinear2Weight: "mm_whisper_embeddings.audio_language_projection.2.weight",
        ])

    /// SPEC.md §4.4: WhisperForConditionalGeneration's encoder; no adapter.
    public static let huggingFaceWhisper = WhisperTensorNames(
        audioPrefixes: ["model.encoder."], [
            .conv1Weight: "model.encoder.conv1.weight", .conv1Bias: "model.encoder.conv1.bias",
            .conv2Weight: "model.encoder.conv2.weight", .conv2Bias: "model.encoder.conv2.bias",
            .embedPositionsWeight: "model.encoder.embed_positions.weight",
            .layerSelfAttnLayerNormWeight: "model.encoder.layers.{i}.self_attn_layer_norm.weight",
            .layerSelfAttnLayerNormBias: "model.encoder.layers.{i}.self_attn_layer_norm.bias",
            .layerQProjWeight: "model.encoder.layers.{i}.self_attn.q_proj.weight",
            .layerQProjBias: "model.encoder.layers.{i}.self_attn.q_proj.bias",
            .layerKProjWeight: "model.encoder.layers.{i}.self_attn.k_proj.weight",
            .layerVProjWeight: "model.encoder.layers.{i}.self_attn.v_proj.weight",
            .layerVProjBias: "model.encoder.layers.{i}.self_attn.v_proj.bias",
            .layerOutProjWeight: "model.encoder.layers.{i}.self_attn.out_proj.weight",
            .layerOutProjBias: "model.encoder.layers.{i}.self_attn.out_proj.bias",
            .layerFinalLayerNormWeight: "model.encoder.layers.{i}.final_layer_norm.weight",
            .layerFinalLayerNormBias: "model.encoder.layers.{i}.final_layer_norm.bias",
            .layerFc1Weight: "model.encoder.layers.{i}.fc1.weight", .layerFc1Bias: "model.encoder.layers.{i}.fc1.bias",
            .layerFc2Weight: "model.encoder.layers.{i}.fc2.weight", .layerFc2Bias: "model.encoder.layers.{i}.fc2.bias",
            .encoderLayerNormWeight: "model.encoder.layer_norm.weight",
            .encoderLayerNormBias: "model.encoder.layer_norm.bias",
        ])

    /// The encoder variables of a CTranslate2 WhisperSpec model.bin (`encoder/…`; the decoder is skipped on purpose).
    /// Quantized weights also have `<name>_scale`. Layers (`encoder/layer_{i}/`) are numbered from 0 without gaps;
    /// gamma/beta are LayerNorm weight/bias, linear_0/linear_1 the HF layers named by the role.
    public static let ctranslate2Whisper = WhisperTensorNames(
        audioPrefixes: ["encoder/"], [
            .conv1Weight: "encoder/conv1/weight", .conv1Bias: "encoder/conv1/bias",
            .conv2Weight: "encoder/conv2/weight", .conv2Bias: "encoder/conv2/bias",
            // transformers' embed_positions, stored (the converter copies it).
            .embedPositionsWeight: "encoder/position_encodings/encodings",
            .layerSelfAttnLayerNormWeight: "encoder/layer_{i}/self_attention/layer_norm/gamma",
            .layerSelfAttnLayerNormBias: "encoder/layer_{i}/self_attention/layer_norm/beta",
            .layerQKVProjWeight: "encoder/layer_{i}/self_attention/linear_0/weight",
            .layerQKVProjBias: "encoder/layer_{i}/self_attention/linear_0/bias",
            .layerOutProjWeight: "encoder/layer_{i}/self_attention/linear_1/weight",
            .layerOutProjBias: "encoder/layer_{i}/self_attention/linear_1/bias",
            .layerFinalLayerNormWeight: "encoder/layer_{i}/ffn/layer_norm/gamma",
            .layerFinalLayerNormBias: "encoder/layer_{i}/ffn/layer_norm/beta",
            .layerFc1Weight: "encoder/layer_{i}/ffn/linear_0/weight",
            .layerFc1Bias: "encoder/layer_{i}/ffn/linear_0/bias",
            .layerFc2Weight: "encoder/layer_{i}/ffn/linear_1/weight",
            .layerFc2Bias: "encoder/layer_{i}/ffn/linear_1/bias",
            .encoderLayerNormWeight: "encoder/layer_norm/gamma", .encoderLayerNormBias: "encoder/layer_norm/beta",
            // CTranslate2 defaults to 8 heads when it is absent.
            .numHeads: "encoder/num_heads",
        ])
}
