// Which stored tensors fill each part of a Voxtral Realtime encoder and adapter, in both published layouts, with their
// shapes: the recipe the loader follows (through the same LinearTensors / WeightReader path as the Whisper family).
// Reference: transformers VoxtralRealtimeForConditionalGeneration.save_pretrained names (5.25:
// audio_tower.embedder.conv{1,2}, audio_tower.layers.N.{self_attn.{q,k,v,o}_proj, self_attn_layer_norm,
// mlp.{gate,up,down}_proj, final_layer_norm}, audio_tower.norm, multi_modal_projector.linear_{1,2}); the Mistral names
// as convert_voxtral_realtime_weights_to_hf.py maps them (mm_streams_embeddings.embedding_module.whisper_encoder.*,
// audio_language_projection.{0,2}), whose q and k rows (and q bias) are in the interleaved rotary order that the
// conversion's permute_for_rope turns into rotate_half's.
// Letters: D width, A attention width, F feed-forward width, M mel bins, Dt adapter width.

extension CheckpointLayout {
    /// transformers VoxtralRealtimeForConditionalGeneration: `config.json` (model_type voxtral_realtime) and
    /// `model.safetensors` or an index with shards.
    public static let huggingFaceRealtime = CheckpointLayout(rawValue: "huggingFaceVoxtralRealtime")
    /// Mistral-native: `params.json` + `consolidated.safetensors`, `mm_streams_embeddings.*` names.
    public static let mistralRealtime = CheckpointLayout(rawValue: "mistralVoxtralRealtime")
}

struct RealtimeLayerTensors: Sendable {
    var attentionNorm: String
    /// q | k | v [3A, D]; biases q, zeros, v.
    var qkv: LinearTensors
    var output: LinearTensors
    var mlpNorm: String
    /// gate | up [2F, D], no bias.
    var gateUp: LinearTensors
    var down: LinearTensors
}

struct RealtimeTensors: Sendable {
    var configuration: RealtimeConfiguration
    var conv1, conv2: ConvolutionTensors
    var layers: [RealtimeLayerTensors]
    var norm: String
    var adapter1, adapter2: LinearTensors
    /// Prefixes of the audio path's tensors (what `unused` checks; the language model is never read).
    var audioPrefixes: [String]

    init(layout: CheckpointLayout, configuration c: RealtimeConfiguration) {
        configuration = c
        let (D, A, F, Dt) = (c.modelDimension, c.attentionWidth, c.feedForwardDimension, c.adapterDimension)
        let mistral = layout == .mistralRealtime
        audioPrefixes = Self.audioPrefixes(layout)
        let (encoder, projector) = (audioPrefixes[0], audioPrefixes[1])
        func conv(_ index: Int, input: Int, stride: Int) -> ConvolutionTensors {
            let base = mistral ? "\(encoder)conv_layers.\(index - 1).conv." : "\(encoder)embedder.conv\(index)."
            return ConvolutionTensors(weight: base + "weight", bias: base + "bias", outputChannels: D,
                                      inputChannels: input, stride: stride)
        }
        conv1 = conv(1, input: c.melBinCount, stride: 1)
        conv2 = conv(2, input: D, stride: 2)
        let rotary: LinearTensors.RowReorder? = mistral ? .rotaryHalves(heads: c.headCount) : nil
        layers = (0..<c.layerCount).map { i in
            let layer = mistral ? "\(encoder)transformer.layers.\(i)." : "\(encoder)layers.\(i)."
            func projection(_ name: String) -> String {
                mistral ? "\(layer)attention.w\(name)" : "\(layer)self_attn.\(name)_proj"
            }
            func mlp(_ hf: String, _ native: String) -> String {
                mistral ? "\(layer)feed_forward.\(native)" : "\(layer)mlp.\(hf)_proj"
            }
            let q = LinearTensors.RowGroup(weight: projection("q") + ".weight", bias: .stored(projection("q") + ".bias"),
                                           rows: A, reorder: rotary)
            let k = LinearTensors.RowGroup(weight: projection("k") + ".weight", bias: .zeros, rows: A, reorder: rotary)
            let v = LinearTensors.RowGroup(weight: projection("v") + ".weight", bias: .stored(projection("v") + ".bias"),
                                           rows: A)
            let gate = LinearTensors.RowGroup(weight: mlp("gate", "w1") + ".weight", bias: .absent, rows: F)
            let up = LinearTensors.RowGroup(weight: mlp("up", "w3") + ".weight", bias: .absent, rows: F)
            return RealtimeLayerTensors(
                attentionNorm: mistral ? "\(layer)attention_norm.weight" : "\(layer)self_attn_layer_norm.weight",
                qkv: LinearTensors(groups: [q, k, v], inputCount: D),
                output: .single(projection("o") + ".weight", bias: projection("o") + ".bias", outputCount: D,
                                inputCount: A),
                mlpNorm: mistral ? "\(layer)ffn_norm.weight" : "\(layer)final_layer_norm.weight",
                gateUp: LinearTensors(groups: [gate, up], inputCount: D),
                down: .single(mlp("down", "w2") + ".weight", bias: mlp("down", "w2") + ".bias", outputCount: D,
                              inputCount: F))
        }
        norm = mistral ? "\(encoder)transformer.norm.weight" : "\(encoder)norm.weight"
        adapter1 = .single(projector + (mistral ? "0.weight" : "linear_1.weight"), bias: nil, outputCount: Dt,
                           inputCount: c.stackFactor * D)
        adapter2 = .single(projector + (mistral ? "2.weight" : "linear_2.weight"), bias: nil, outputCount: Dt,
                           inputCount: Dt)
    }

    /// The encoder's and the projector's name prefixes in `layout` (one of the two Realtime layouts).
    static func audioPrefixes(_ layout: CheckpointLayout) -> [String] {
        layout == .mistralRealtime
            ? ["mm_streams_embeddings.embedding_module.whisper_encoder.",
               "mm_streams_embeddings.embedding_module.audio_language_projection."]
            : ["audio_tower.", "multi_modal_projector."]
    }

    /// Every stored tensor and its shape, in reading (and digest) order.
    var expectations: [(name: String, shape: [Int])] {
        let D = configuration.modelDimension
        var list = conv1.expectations + conv2.expectations
        for layer in layers {
            list.append((layer.attentionNorm, [D]))
            list += layer.qkv.expectations + layer.output.expectations
            list.append((layer.mlpNorm, [D]))
            list += layer.gateUp.expectations + layer.down.expectations
        }
        list.append((norm, [D]))
        return list + adapter1.expectations + adapter2.expectations
    }
}

/// One layer's float32 weights, in the kernels' order.
struct RealtimeLayerWeights: Sendable {
    var attentionNorm: [Float]
    var qkv, output: LinearWeights
    var mlpNorm: [Float]
    var gateUp, down: LinearWeights

    init(reading tensors: RealtimeLayerTensors, from reader: WeightReader) throws(ModelError) {
        attentionNorm = try reader.read(tensors.attentionNorm)
        qkv = try LinearWeights(reading: tensors.qkv, from: reader)
        output = try LinearWeights(reading: tensors.output, from: reader)
        mlpNorm = try reader.read(tensors.mlpNorm)
        gateUp = try LinearWeights(reading: tensors.gateUp, from: reader)
        down = try LinearWeights(reading: tensors.down, from: reader)
    }
}
