// Voxtral Realtime (Voxtral Mini 4B Realtime): a causal audio encoder — causal conv stem, RoPE, sliding-window
// attention, RMSNorm, SwiGLU — and the 4× adapter, streamed token by token (80 ms). Hugging Face and Mistral layouts.
// Reference: transformers models/voxtral_realtime (5.25); mistral-common's audio encoder for the padding;
// ../shared/docs/REALTIME.md; Tests/Fixtures/realtime/README.md.

import Foundation

public enum RealtimeFamily: EncoderFamily {
    public static let name = "voxtral-realtime"
    /// The tokenizer file whose "audio" object holds the padding (mistral-common's AudioConfig), in both layouts.
    public static let paddingFile = "tekken.json"

    public static func recognises(directory: String) -> Bool {
        (try? layout(of: directory)) != nil
    }

    public static func load(directory: String, policy: PrecisionPolicy) throws(EncoderLoadError) -> any EncoderModel {
        let reader: RealtimeReader
        do { reader = try RealtimeReader(directory: directory) } catch { throw .model(error) }
        let model = try RealtimeModel(reading: reader, policy: policy)
        // The shared silent prefix now, while loading, so that the first stream opened does not wait for it.
        _ = model.prefix(threads: Parallel.threadCount)
        return model
    }

    public static func describe(directory: String, threads: Int) throws(ModelError) -> ModelSummary {
        let reader = try RealtimeReader(directory: directory)
        let floats = try reader.readAll()
        let description = reader.finish()
        let c = reader.configuration
        return ModelSummary(
            family: name, description: description, floatBytes: floats * 4,
            activationBytesPerStep: RealtimeWorkspace.byteCount(c, threads: threads),
            encoderOutput: RealtimeModel.output(.encoder, c), adapterOutput: RealtimeModel.output(.adapter, c),
            streamStateBytes: RealtimeStreamState.byteCount(c))
    }

    /// The Realtime layout of `directory`, or nil when it holds another kind of model (or none).
    /// config.json with model_type "voxtral_realtime", or params.json + consolidated.safetensors whose encoder is
    /// causal (encoder_args.causal, the Realtime model's; offline Voxtral's encoder is not).
    /// `remoteFiles`: the files of a repository not downloaded yet (`voxenc pull`), whose config files are in
    /// `directory`; nil for a local directory.
    static func layout(of directory: String, remoteFiles: Set<String>? = nil) throws(ModelError) -> CheckpointLayout? {
        func exists(_ name: String) -> Bool {
            remoteFiles?.contains(name) ?? FileManager.default.fileExists(atPath: directory + "/" + name)
        }
        if exists("config.json"),
           (try JSONObjectFile.read(directory + "/config.json"))["model_type"] as? String == "voxtral_realtime",
           exists("model.safetensors") || exists("model.safetensors.index.json") {
            return .huggingFaceRealtime
        }
        if exists("params.json") && exists("consolidated.safetensors"),
           let encoder = try mistralEncoderArguments(directory + "/params.json"),
           encoder["causal"] as? Bool == true {
            return .mistralRealtime
        }
        return nil
    }

    static func mistralEncoderArguments(_ path: String) throws(ModelError) -> [String: Any]? {
        let params = try JSONObjectFile.read(path)
        return ((params["multimodal"] as? [String: Any])?["whisper_model_args"] as? [String: Any])?["encoder_args"]
            as? [String: Any]
    }
}

/// Reads a Realtime model directory: its configuration, then its tensors in order through a WeightReader (shapes
/// and dtypes checked from the headers first). Not thread-safe: one load owns it.
final class RealtimeReader {
    let directory: String
    let layout: CheckpointLayout
    let configuration: RealtimeConfiguration
    let tensors: RealtimeTensors
    private let reader: WeightReader

    init(directory given: String) throws(ModelError) {
        let directory = given.count > 1 && given.hasSuffix("/") ? String(given.dropLast()) : given
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw .directoryNotFound(path: directory)
        }
        guard isDirectory.boolValue else { throw .notADirectory(path: directory) }
        guard let layout = try RealtimeFamily.layout(of: directory) else {
            throw .unrecognizedLayout(path: directory, found: [])
        }
        self.directory = directory
        self.layout = layout
        let source: Checkpoint
        let configuration: RealtimeConfiguration
        if layout == .mistralRealtime {
            source = try Checkpoint(file: directory + "/consolidated.safetensors")
            configuration = try Self.mistralConfiguration(directory + "/params.json", source: source)
        } else {
            let index = directory + "/model.safetensors.index.json"
            source = FileManager.default.fileExists(atPath: index) ? try Checkpoint(index: index)
                : try Checkpoint(file: directory + "/model.safetensors")
            configuration = try Self.huggingFaceConfiguration(directory, source: source)
        }
        if let problem = configuration.inconsistency {
            throw .invalidConfiguration(path: directory, reason: problem)
        }
        self.configuration = configuration
        tensors = RealtimeTensors(layout: layout, configuration: configuration)
        reader = try WeightReader(source: source, expectations: tensors.expectations)
    }

    // MARK: - Configuration

    /// config.json (audio_config, downsample_factor, default_num_delay_tokens), preprocessor_config.json
    /// (global_log_mel_max, when present) and tekken.json (the padding, when present); the adapter width from
    /// linear_1's shape.
    private static func huggingFaceConfiguration(_ directory: String, source: Checkpoint) throws(ModelError)
        -> RealtimeConfiguration {
        let path = directory + "/config.json"
        let config = try JSONObjectFile.read(path)
        guard let audio = config["audio_config"] as? [String: Any] else {
            throw .invalidConfiguration(path: path, reason: "no \"audio_config\"")
        }
        func int(_ key: String, _ object: [String: Any] = audio) throws(ModelError) -> Int {
            guard let value = object[key] as? Int else {
                throw .invalidConfiguration(path: path, reason: "audio_config has no integer \"\(key)\"")
            }
            return value
        }
        // RoPE θ: rope_parameters.rope_theta (transformers 5), or a top-level rope_theta (older configs); never the
        // class default.
        let rope = (audio["rope_parameters"] as? [String: Any])?["rope_theta"] ?? audio["rope_theta"]
        guard let theta = (rope as? NSNumber)?.doubleValue else {
            throw .invalidConfiguration(path: path, reason: "audio_config has no rope_parameters.rope_theta")
        }
        var clampTop: Float = 1.5
        let preprocessor = directory + "/preprocessor_config.json"
        if FileManager.default.fileExists(atPath: preprocessor),
           let top = (try JSONObjectFile.read(preprocessor))["global_log_mel_max"] as? NSNumber {
            clampTop = top.floatValue
        }
        let d = try int("hidden_size")
        let heads = try int("num_attention_heads")
        let padding = try streamingPadding(directory) ?? (delay: config["default_num_delay_tokens"] as? Int ?? 6, left: 32)
        return RealtimeConfiguration(
            melBinCount: audio["num_mel_bins"] as? Int ?? 128, modelDimension: d, layerCount: try int("num_hidden_layers"),
            headCount: heads, headDimension: audio["head_dim"] as? Int ?? d / max(1, heads),
            feedForwardDimension: try int("intermediate_size"), slidingWindow: audio["sliding_window"] as? Int ?? 750,
            ropeTheta: theta, normEpsilon: (audio["rms_norm_eps"] as? NSNumber)?.floatValue ?? 1e-5,
            stackFactor: config["downsample_factor"] as? Int ?? 4,
            adapterDimension: try adapterWidth(source, "multi_modal_projector.linear_1.weight"),
            globalLogMelMax: clampTop, leftPadTokens: padding.left, rightPadTokens: padding.delay + 1 + 10)
    }

    /// The padding mistral-common applies, from tekken.json's "audio" object when the directory has one (both
    /// published layouts ship it; the Hugging Face processor pads through mistral-common too): the left pad is
    /// streaming_n_left_pad_tokens, the delay transcription_delay_ms in 80 ms tokens (frame_rate 12.5). nil without
    /// tekken.json or its "audio"; the callers then take 32 and config.json's default_num_delay_tokens, or 6.
    static func streamingPadding(_ directory: String) throws(ModelError) -> (delay: Int, left: Int)? {
        let path = directory + "/" + RealtimeFamily.paddingFile
        guard FileManager.default.fileExists(atPath: path),
              let audio = try JSONObjectFile.read(path)["audio"] as? [String: Any] else { return nil }
        if let rate = (audio["frame_rate"] as? NSNumber)?.doubleValue, rate != 12.5 {
            throw .invalidConfiguration(path: path, reason: "audio.frame_rate \(rate): this encoder makes 12.5 rows a second")
        }
        let milliseconds = (audio["transcription_delay_ms"] as? NSNumber)?.doubleValue ?? 480
        let tokens = milliseconds / 80
        guard tokens >= 0, tokens == tokens.rounded(), tokens <= 1000 else {
            throw .invalidConfiguration(path: path, reason: "audio.transcription_delay_ms \(milliseconds) is not a whole number of 80 ms tokens")
        }
        let left = audio["streaming_n_left_pad_tokens"] as? Int ?? 32
        guard (0...10_000).contains(left) else {
            throw .invalidConfiguration(path: path, reason: "audio.streaming_n_left_pad_tokens \(left) is out of range")
        }
        return (Int(tokens), left)
    }

    /// params.json: multimodal.whisper_model_args.{encoder_args (with audio_encoding_args), downsample_args}; the
    /// padding from tekken.json beside it.
    private static func mistralConfiguration(_ path: String, source: Checkpoint) throws(ModelError)
        -> RealtimeConfiguration {
        guard let encoder = try RealtimeFamily.mistralEncoderArguments(path) else {
            throw .invalidConfiguration(path: path, reason: "no multimodal.whisper_model_args.encoder_args")
        }
        func int(_ key: String) throws(ModelError) -> Int {
            guard let value = encoder[key] as? Int else {
                throw .invalidConfiguration(path: path, reason: "encoder_args has no integer \"\(key)\"")
            }
            return value
        }
        guard let theta = (encoder["rope_theta"] as? NSNumber)?.doubleValue else {
            throw .invalidConfiguration(path: path, reason: "encoder_args has no rope_theta")
        }
        let audio = encoder["audio_encoding_args"] as? [String: Any] ?? [:]
        let params = try JSONObjectFile.read(path)
        let downsample = (((params["multimodal"] as? [String: Any])?["whisper_model_args"] as? [String: Any])?[
            "downsample_args"] as? [String: Any])?["downsample_factor"] as? Int ?? 4
        let d = try int("dim")
        let heads = try int("n_heads")
        let directory = (path as NSString).deletingLastPathComponent
        let padding = try streamingPadding(directory) ?? (delay: 6, left: 32)
        return RealtimeConfiguration(
            melBinCount: audio["num_mel_bins"] as? Int ?? 128, modelDimension: d, layerCount: try int("n_layers"),
            headCount: heads, headDimension: encoder["head_dim"] as? Int ?? d / max(1, heads),
            feedForwardDimension: try int("hidden_dim"), slidingWindow: encoder["sliding_window"] as? Int ?? 750,
            ropeTheta: theta, normEpsilon: (encoder["norm_eps"] as? NSNumber)?.floatValue ?? 1e-5,
            stackFactor: downsample,
            adapterDimension: try adapterWidth(
                source, "mm_streams_embeddings.embedding_module.audio_language_projection.0.weight"),
            globalLogMelMax: (audio["global_log_mel_max"] as? NSNumber)?.floatValue ?? 1.5,
            leftPadTokens: padding.left, rightPadTokens: padding.delay + 1 + 10)
    }

    private static func adapterWidth(_ source: Checkpoint, _ name: String) throws(ModelError) -> Int {
        let shape = try source.info(name).shape
        guard shape.count == 2 else {
            throw .shapeMismatch(path: source.path(of: name), tensor: name, expected: [-1, -1], actual: shape)
        }
        return shape[0]
    }

    // MARK: - Tensors, in order

    func readStem() throws(ModelError) -> (conv1: ConvolutionWeights, conv2: ConvolutionWeights) {
        (try ConvolutionWeights(reading: tensors.conv1, from: reader),
         try ConvolutionWeights(reading: tensors.conv2, from: reader))
    }

    func readLayer(_ index: Int) throws(ModelError) -> RealtimeLayerWeights {
        try RealtimeLayerWeights(reading: tensors.layers[index], from: reader)
    }

    func readNorm() throws(ModelError) -> [Float] { try reader.read(tensors.norm) }

    func readAdapter() throws(ModelError) -> (LinearWeights, LinearWeights) {
        (try LinearWeights(reading: tensors.adapter1, from: reader), try LinearWeights(reading: tensors.adapter2, from: reader))
    }

    /// Reads every part (describe): the float count.
    func readAll() throws(ModelError) -> Int {
        let stem = try readStem()
        var floats = stem.conv1.weight.count + stem.conv1.bias.count + stem.conv2.weight.count + stem.conv2.bias.count
        for i in 0..<configuration.layerCount {
            let l = try readLayer(i)
            floats += l.attentionNorm.count + l.mlpNorm.count
            for linear in [l.qkv, l.output, l.gateUp, l.down] { floats += linear.weight.count + (linear.bias?.count ?? 0) }
        }
        floats += try readNorm().count
        let (a1, a2) = try readAdapter()
        return floats + a1.weight.count + a2.weight.count
    }

    /// What was read, after the last part.
    func finish() -> ModelDescription {
        ModelDescription(path: directory, layout: layout, encoder: configuration.encoderSummary,
                         adapter: configuration.adapterSummary, storedDType: reader.storedDType,
                         parameterCount: reader.parameterCount, digest: reader.digest())
    }
}
