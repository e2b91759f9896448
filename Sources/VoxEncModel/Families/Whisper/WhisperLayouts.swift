// Which of the Whisper family's checkpoint layouts a model directory holds, decided from the files present and config.json's content.
// Reference: SPEC.md §4.1–4.4. The hub repos mistralai/Voxtral-*-2507 hold both layouts side by side (config.json +
// model-*.safetensors, and params.json + consolidated.safetensors); the Hugging Face one is preferred because it
// stores the positional table transformers itself uses. CTranslate2 directories (faster-whisper: model.bin,
// config.json, tokenizer.json, vocabulary.txt; ctranslate2 models/model.cc reads "model.bin") are recognised by
// model.bin, and the spec name inside it must be WhisperSpec; their config.json (suppress_ids, lang_ids, …) is
// CTranslate2's, not a transformers config.

import Foundation

/// The on-disk layouts the Whisper family reads.
extension CheckpointLayout {
    /// transformers VoxtralForConditionalGeneration: `config.json` with `audio_config`, `model.safetensors` or
    /// `model.safetensors.index.json` + shards; `audio_tower.*`, `multi_modal_projector.*`.
    public static let huggingFaceVoxtral = CheckpointLayout(rawValue: "huggingFaceVoxtral")
    /// Mistral-native: `params.json` + `consolidated.safetensors`; `mm_whisper_embeddings.*`.
    public static let mistralVoxtral = CheckpointLayout(rawValue: "mistralVoxtral")
    /// transformers WhisperForConditionalGeneration / WhisperModel: `config.json` (a WhisperConfig) +
    /// `model.safetensors` (or sharded); `model.encoder.*`.
    public static let huggingFaceWhisper = CheckpointLayout(rawValue: "huggingFaceWhisper")
    /// CTranslate2 / faster-whisper: `model.bin` holding a WhisperSpec (+ CTranslate2's `config.json`);
    /// `encoder/*` variables, float32/float16/bfloat16 or int8/int16-quantized.
    public static let ctranslate2Whisper = CheckpointLayout(rawValue: "ctranslate2Whisper")
    /// The four, in the order above.
    public static let whisperLayouts: [CheckpointLayout] = [huggingFaceVoxtral, mistralVoxtral, huggingFaceWhisper,
                                                           ctranslate2Whisper]

    /// File names the layouts use.
    static let huggingFaceConfigFile = "config.json"
    static let huggingFaceWeightsFile = "model.safetensors"
    static let huggingFaceIndexFile = "model.safetensors.index.json"
    static let mistralParamsFile = "params.json"
    static let mistralWeightsFile = "consolidated.safetensors"
    static let ctranslate2ModelFile = "model.bin"

    /// The layout of `directory`. Throws `directoryNotFound`, `notADirectory`, `missingFile` (weights without their
    /// config.json or params.json), `unrecognizedLayout`, or `invalidConfiguration` when config.json is unreadable
    /// or describes another kind of model; for a CTranslate2 model.bin, what its header parse throws
    /// (`unsupportedFormatVersion`, `invalidModelBinary`, …) or `unsupportedSpec` when it is not Whisper.
    public static func detect(directory: String) throws(ModelError) -> CheckpointLayout {
        try detect(directory: directory, remoteFiles: nil)
    }

    /// `detect` for a repository not downloaded yet (`voxenc pull`): which files exist is `remoteFiles`, and
    /// `directory` holds the small config files among them that were fetched (config.json, params.json). A
    /// CTranslate2 model.bin is recognised by its name alone; its header is checked once it is fetched.
    static func detect(directory: String, remoteFiles: Set<String>?) throws(ModelError) -> CheckpointLayout {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw .directoryNotFound(path: directory)
        }
        guard isDirectory.boolValue else { throw .notADirectory(path: directory) }
        func exists(_ name: String) -> Bool {
            remoteFiles?.contains(name) ?? FileManager.default.fileExists(atPath: directory + "/" + name)
        }
        let hasHuggingFaceWeights = exists(huggingFaceIndexFile) || exists(huggingFaceWeightsFile)
        let hasMistral = exists(mistralParamsFile) && exists(mistralWeightsFile)

        // model.bin without safetensors beside it: a CTranslate2 directory, whatever its config.json says.
        if exists(ctranslate2ModelFile) && !hasHuggingFaceWeights && !hasMistral {
            if remoteFiles != nil { return .ctranslate2Whisper }
            let model = try CTranslate2Model(contentsOf: directory + "/" + ctranslate2ModelFile)
            try CTranslate2Whisper.checkSpec(of: model)
            return .ctranslate2Whisper
        }

        if exists(huggingFaceConfigFile) {
            let configPath = directory + "/" + huggingFaceConfigFile
            let kind = try huggingFaceKind(configPath: configPath)
            // A Voxtral repo downloaded with only the Mistral weights still has config.json: use what is there.
            if let kind, hasHuggingFaceWeights || !hasMistral { return kind }
            if kind == nil && !hasMistral {
                throw .invalidConfiguration(path: configPath, reason: "neither a Voxtral config (no \"audio_config\") "
                                            + "nor a Whisper config (no \"d_model\"/\"encoder_layers\")")
            }
        }
        if hasMistral { return .mistralVoxtral }
        // Weights without the configuration beside them: an incomplete download, not an unknown layout.
        if hasHuggingFaceWeights && !exists(huggingFaceConfigFile) {
            throw .missingFile(path: directory + "/" + huggingFaceConfigFile)
        }
        if exists(mistralWeightsFile) && !exists(mistralParamsFile) {
            throw .missingFile(path: directory + "/" + mistralParamsFile)
        }
        let listing = remoteFiles.map(Array.init) ?? (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        throw .unrecognizedLayout(path: directory, found: listing.filter { !$0.hasPrefix(".") }.sorted())
    }

    /// HF Voxtral (`audio_config` present), HF Whisper (`model_type` "whisper", or `d_model` + `encoder_layers`), or nil.
    private static func huggingFaceKind(configPath: String) throws(ModelError) -> CheckpointLayout? {
        let config = try JSONObjectFile.read(configPath)
        if config["audio_config"] is [String: Any] { return .huggingFaceVoxtral }
        if config["model_type"] as? String == "whisper" || (config["d_model"] != nil && config["encoder_layers"] != nil) {
            return .huggingFaceWhisper
        }
        return nil
    }
}
