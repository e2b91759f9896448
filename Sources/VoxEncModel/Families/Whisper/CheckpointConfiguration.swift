// Reads a checkpoint's config file into `EncoderConfiguration` (+ `AdapterConfiguration` for Voxtral).
// Reference: transformers VoxtralConfig / VoxtralEncoderConfig (configuration_voxtral.py: class defaults,
// `attribute_map` d_model→hidden_size, encoder_layers→num_hidden_layers, encoder_attention_heads→num_attention_heads,
// encoder_ffn_dim→intermediate_size), WhisperConfig (configuration_whisper.py defaults), VoxtralMultiModalProjector
// (linear_1 = Linear(audio_config.intermediate_size, text_config.hidden_size); frames are stacked by
// reshape(-1, intermediate_size)); vLLM `_remap_mistral_audio_args` for params.json (SPEC.md §4.3).
// A key missing from config.json takes the transformers class default, as transformers does; the tensor shape
// checks then catch any disagreement with the weights.

import Foundation

/// The shapes a checkpoint's config file declares.
public struct CheckpointConfiguration: Sendable, Equatable {
    public var encoder: EncoderConfiguration
    /// nil for a bare Whisper encoder.
    public var adapter: AdapterConfiguration?
    /// The file it was read from.
    public var path: String

    /// Reads `config.json` (Hugging Face layouts) or `params.json` (Mistral) from `directory`; for CTranslate2, the
    /// shapes inside model.bin (`CTranslate2Whisper.configuration`), whose config.json holds decoding options only.
    public static func read(directory: String, layout: CheckpointLayout) throws(ModelError) -> CheckpointConfiguration {
        switch layout {
        case .huggingFaceVoxtral:
            let path = directory + "/" + CheckpointLayout.huggingFaceConfigFile
            let config = try decode(HuggingFaceVoxtral.self, path: path)
            return try huggingFaceVoxtral(config, path: path)
        case .huggingFaceWhisper:
            let path = directory + "/" + CheckpointLayout.huggingFaceConfigFile
            let config = try decode(HuggingFaceEncoder.self, path: path)
            let encoder = try config.encoderConfiguration(defaults: .whisperTiny, prefix: "", path: path)
            return CheckpointConfiguration(encoder: encoder, adapter: nil, path: path)
        case .mistralVoxtral:
            let path = directory + "/" + CheckpointLayout.mistralParamsFile
            return try mistral(try decode(MistralParams.self, path: path), path: path)
        case .ctranslate2Whisper:
            let model = try CTranslate2Model(contentsOf: directory + "/" + CheckpointLayout.ctranslate2ModelFile)
            let encoder = try CTranslate2Whisper.configuration(
                of: model, configPath: directory + "/" + CheckpointLayout.huggingFaceConfigFile)
            return CheckpointConfiguration(encoder: encoder, adapter: nil, path: model.path)
        default:
            preconditionFailure("\(layout) is not one of the Whisper family's layouts")
        }
    }

    // MARK: - Hugging Face

    /// VoxtralEncoderConfig or WhisperConfig keys, under either spelling.
    struct HuggingFaceEncoder: Decodable {
        var hiddenSize, dModel: Int?
        var numHiddenLayers, encoderLayers: Int?
        var numAttentionHeads, encoderAttentionHeads: Int?
        var intermediateSize, encoderFfnDim: Int?
        var numMelBins, maxSourcePositions, headDim: Int?
        var layerNormEps: Double?
        var activationFunction: String?

        enum CodingKeys: String, CodingKey {
            case hiddenSize = "hidden_size", dModel = "d_model", numHiddenLayers = "num_hidden_layers"
            case encoderLayers = "encoder_layers", numAttentionHeads = "num_attention_heads"
            case encoderAttentionHeads = "encoder_attention_heads", intermediateSize = "intermediate_size"
            case encoderFfnDim = "encoder_ffn_dim", numMelBins = "num_mel_bins"
            case maxSourcePositions = "max_source_positions", headDim = "head_dim", layerNormEps = "layer_norm_eps"
            case activationFunction = "activation_function"
        }

        func encoderConfiguration(defaults: EncoderConfiguration, prefix: String, path: String) throws(ModelError)
            -> EncoderConfiguration {
            func pick(_ a: Int?, _ aKey: String, _ b: Int?, _ bKey: String, _ fallback: Int) throws(ModelError) -> Int {
                if let a, let b, a != b {
                    throw .invalidConfiguration(path: path, reason: "\(prefix)\(aKey) = \(a) but its alias \(prefix)\(bKey) = \(b)")
                }
                return a ?? b ?? fallback
            }
            let configuration = EncoderConfiguration(
                melBinCount: numMelBins ?? defaults.melBinCount,
                modelDimension: try pick(hiddenSize, "hidden_size", dModel, "d_model", defaults.modelDimension),
                layerCount: try pick(numHiddenLayers, "num_hidden_layers", encoderLayers, "encoder_layers", defaults.layerCount),
                headCount: try pick(numAttentionHeads, "num_attention_heads", encoderAttentionHeads,
                                    "encoder_attention_heads", defaults.headCount),
                feedForwardDimension: try pick(intermediateSize, "intermediate_size", encoderFfnDim, "encoder_ffn_dim",
                                               defaults.feedForwardDimension),
                maxPositions: maxSourcePositions ?? defaults.maxPositions,
                layerNormEpsilon: layerNormEps.map(Float.init) ?? defaults.layerNormEpsilon)
            if let activationFunction, activationFunction != "gelu" {
                // The encoder computes exact-erf GELU only; anything else would silently change the numbers.
                throw .invalidConfiguration(path: path, reason: "\(prefix)activation_function \"\(activationFunction)\" "
                                            + "is not supported (only \"gelu\")")
            }
            try check(configuration, headDimension: headDim, path: path, prefix: prefix)
            return configuration
        }
    }

    struct HuggingFaceVoxtral: Decodable {
        struct Text: Decodable {
            var hiddenSize: Int?
            enum CodingKeys: String, CodingKey { case hiddenSize = "hidden_size" }
        }
        var audioConfig: HuggingFaceEncoder
        var textConfig: Text?
        var projectorHiddenAct: String?
        enum CodingKeys: String, CodingKey {
            case audioConfig = "audio_config", textConfig = "text_config", projectorHiddenAct = "projector_hidden_act"
        }
    }

    /// VoxtralConfig's default text model (Voxtral Mini's Llama) has hidden_size 3072.
    static let defaultTextHiddenSize = 3072

    static func huggingFaceVoxtral(_ config: HuggingFaceVoxtral, path: String) throws(ModelError) -> CheckpointConfiguration {
        let encoder = try config.audioConfig.encoderConfiguration(defaults: .voxtral, prefix: "audio_config.", path: path)
        if let act = config.projectorHiddenAct, act != "gelu" {
            throw .invalidConfiguration(path: path, reason: "projector_hidden_act \"\(act)\" is not supported (only \"gelu\")")
        }
        // transformers stacks reshape(-1, intermediate_size) rows: intermediate_size / hidden_size frames (4 for Voxtral).
        let inputDimension = encoder.feedForwardDimension
        guard inputDimension % encoder.modelDimension == 0 else {
            throw .invalidConfiguration(path: path, reason: "audio_config.intermediate_size \(inputDimension) is not a "
                                        + "multiple of hidden_size \(encoder.modelDimension): the adapter cannot stack frames")
        }
        let adapter = AdapterConfiguration(stackFactor: inputDimension / encoder.modelDimension,
                                           inputDimension: inputDimension,
                                           outputDimension: config.textConfig?.hiddenSize ?? defaultTextHiddenSize)
        try check(adapter, encoder: encoder, path: path, key: "text_config.hidden_size")
        return CheckpointConfiguration(encoder: encoder, adapter: adapter, path: path)
    }

    // MARK: - Mistral

    struct MistralParams: Decodable {
        struct Multimodal: Decodable {
            var whisperModelArgs: WhisperArgs
            enum CodingKeys: String, CodingKey { case whisperModelArgs = "whisper_model_args" }
        }
        struct WhisperArgs: Decodable {
            var encoderArgs: EncoderArgs
            var downsampleArgs: DownsampleArgs
            enum CodingKeys: String, CodingKey { case encoderArgs = "encoder_args", downsampleArgs = "downsample_args" }
        }
        struct EncoderArgs: Decodable {
            struct AudioEncodingArgs: Decodable {
                var numMelBins: Int
                enum CodingKeys: String, CodingKey { case numMelBins = "num_mel_bins" }
            }
            var audioEncodingArgs: AudioEncodingArgs
            var dim, nLayers, hiddenDim, nHeads, maxSourcePositions: Int
            var headDim: Int?
            var causal: Bool?
            var slidingWindow: Int?
            var posEmbed: String?
            enum CodingKeys: String, CodingKey {
                case audioEncodingArgs = "audio_encoding_args", dim, nLayers = "n_layers", hiddenDim = "hidden_dim"
                case nHeads = "n_heads", maxSourcePositions = "max_source_positions", headDim = "head_dim", causal
                case slidingWindow = "sliding_window", posEmbed = "pos_embed"
            }
        }
        struct DownsampleArgs: Decodable {
            var downsampleFactor: Int
            enum CodingKeys: String, CodingKey { case downsampleFactor = "downsample_factor" }
        }
        /// The text model's hidden size: the adapter's output width.
        var dim: Int
        var multimodal: Multimodal
    }

    static func mistral(_ params: MistralParams, path: String) throws(ModelError) -> CheckpointConfiguration {
        let args = params.multimodal.whisperModelArgs.encoderArgs
        let prefix = "multimodal.whisper_model_args.encoder_args."
        // Variants the encoder does not implement (streaming / realtime encoders).
        if args.causal == true {
            throw .invalidConfiguration(path: path, reason: "\(prefix)causal is true: causal encoders are not supported")
        }
        if let window = args.slidingWindow {
            throw .invalidConfiguration(path: path, reason: "\(prefix)sliding_window \(window) is not supported")
        }
        if let embedding = args.posEmbed, embedding != "sinusoidal" {
            throw .invalidConfiguration(path: path, reason: "\(prefix)pos_embed \"\(embedding)\" is not supported (only \"sinusoidal\")")
        }
        let encoder = EncoderConfiguration(melBinCount: args.audioEncodingArgs.numMelBins, modelDimension: args.dim,
                                           layerCount: args.nLayers, headCount: args.nHeads,
                                           feedForwardDimension: args.hiddenDim, maxPositions: args.maxSourcePositions)
        try check(encoder, headDimension: args.headDim, path: path, prefix: prefix)
        let factor = params.multimodal.whisperModelArgs.downsampleArgs.downsampleFactor
        guard factor > 0, factor <= 64 else {
            throw .invalidConfiguration(path: path, reason: "multimodal.whisper_model_args.downsample_args."
                                        + "downsample_factor \(factor) is out of range")
        }
        let adapter = AdapterConfiguration(stackFactor: factor, inputDimension: factor * args.dim, outputDimension: params.dim)
        try check(adapter, encoder: encoder, path: path, key: "dim")
        return CheckpointConfiguration(encoder: encoder, adapter: adapter, path: path)
    }

    // MARK: - Checks

    static func check(_ encoder: EncoderConfiguration, headDimension: Int?, path: String, prefix: String) throws(ModelError) {
        if let reason = encoder.inconsistency { throw .invalidConfiguration(path: path, reason: reason) }
        if let headDimension, headDimension != encoder.headDimension {
            throw .invalidConfiguration(path: path, reason: "\(prefix)head_dim \(headDimension) ≠ \(encoder.modelDimension) / "
                                        + "\(encoder.headCount) heads")
        }
    }

    static func check(_ adapter: AdapterConfiguration, encoder: EncoderConfiguration, path: String, key: String) throws(ModelError) {
        guard adapter.outputDimension > 0, adapter.outputDimension <= 1 << 16 else {
            throw .invalidConfiguration(path: path, reason: "\(key) \(adapter.outputDimension) is out of range")
        }
        guard encoder.maxPositions % adapter.stackFactor == 0 else {
            throw .invalidConfiguration(path: path, reason: "max_source_positions \(encoder.maxPositions) is not a multiple "
                                        + "of the adapter's \(adapter.stackFactor)-frame stacking")
        }
    }

    // MARK: - Decoding

    static func decode<T: Decodable>(_ type: T.Type, path: String) throws(ModelError) -> T {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            if !FileManager.default.fileExists(atPath: path) { throw .missingFile(path: path) }
            throw .ioError(path: path, reason: error.localizedDescription)
        }
        let decoder = JSONDecoder()
        do { return try decoder.decode(T.self, from: data) } catch let error as DecodingError {
            throw .invalidConfiguration(path: path, reason: summary(of: error))
        } catch {
            throw .invalidConfiguration(path: path, reason: "\(error)")
        }
    }

    /// "audio_config.hidden_size: expected an integer" rather than DecodingError's dump.
    static func summary(of error: DecodingError) -> String {
        func dotted(_ path: [any CodingKey]) -> String {
            path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing key \(dotted(context.codingPath + [key]))"
        case .typeMismatch(let type, let context):
            let expected = type == Int.self ? "an integer" : type == String.self ? "a string" : "\(type)"
            return "\(dotted(context.codingPath)): expected \(expected)"
        case .valueNotFound(_, let context):
            return "\(dotted(context.codingPath)): null"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "\(dotted(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
