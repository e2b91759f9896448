// Loads a model directory (Hugging Face Voxtral, Mistral Voxtral, Hugging Face Whisper, or CTranslate2 /
// faster-whisper Whisper) into float32 weights, all at once (`load`) or part by part (`open`, ModelReader); both go
// through the same EncoderTensors recipe and WeightReader, so they read the same values and make the same digest.
// Reference: SPEC.md §4 (layouts, names, configs), §2.2 (where the positional table comes from);
// CTranslate2Model.swift and CTranslate2Whisper.swift for model.bin.

import Foundation

/// Encoder (and adapter) weights ready for the kernels, with what they are.
public struct LoadedModel: Sendable {
    public var description: ModelDescription
    public var encoder: EncoderWeights
    /// nil for a bare Whisper encoder.
    public var adapter: AdapterWeights?
    /// Tensors under the audio prefixes that the loader did not use (text-model and Whisper-decoder tensors are
    /// skipped on purpose and not listed). Empty for the known checkpoints; anything here deserves a look.
    public var unusedTensors: [String]

    public init(description: ModelDescription, encoder: EncoderWeights, adapter: AdapterWeights?, unusedTensors: [String] = []) {
        self.description = description
        self.encoder = encoder
        self.adapter = adapter
        self.unusedTensors = unusedTensors
    }
}

public enum ModelLoader {
    /// Loads the model in `directory` (a Hugging Face cache snapshot directory, with its symlinked files, works as
    /// is) into float32 weights, all at once. Reads only the audio tensors of the checkpoint; every shape is checked
    /// against the config file first. `open(directory:)` reads the same parts one at a time.
    public static func load(directory: String) throws(ModelError) -> LoadedModel {
        let model = try open(directory: directory)
        let encoder = try EncoderWeights(reading: model)
        let adapter = try model.readAdapter()
        let (description, unused) = model.finish()
        return LoadedModel(description: description, encoder: encoder, adapter: adapter, unusedTensors: unused)
    }

    /// What `load` would describe, and how many float32 values its weights hold (positions included), without
    /// keeping them: each part is read, counted and dropped (`voxenc info` on Voxtral Mini holds one layer, not
    /// 2.5 GB). Reads and hashes every tensor, as `load` does.
    public static func describe(directory: String) throws(ModelError)
        -> (description: ModelDescription, floatCount: Int, unusedTensors: [String]) {
        let model = try open(directory: directory)
        let stem = try model.readStem()
        var floats = stem.conv1.weight.count + stem.conv1.bias.count + stem.conv2.weight.count + stem.conv2.bias.count
            + stem.positions.count
        for index in 0..<model.configuration.layerCount { floats += try model.readLayer(index).floatCount }
        floats += try model.readLayerNorm().floatCount
        floats += try model.readAdapter()?.floatCount ?? 0
        let (description, unused) = model.finish()
        return (description, floats, unused)
    }

    /// Opens the model in `directory` for reading part by part (ModelReader): the layout detected, the
    /// configuration read (a CTranslate2 model.bin's from its tensor shapes), every tensor's shape and dtype checked
    /// from the headers. No weight data is read yet.
    public static func open(directory: String) throws(ModelError) -> ModelReader {
        let directory = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        let layout = try CheckpointLayout.detect(directory: directory)
        let names = WhisperTensorNames.for(layout)
        if layout == .ctranslate2Whisper {
            // CTranslate2: model.bin mapped once; the decoder is never touched.
            let model = try CTranslate2Model(contentsOf: directory + "/" + CheckpointLayout.ctranslate2ModelFile)
            let configuration = try CTranslate2Whisper.configuration(
                of: model, configPath: directory + "/" + CheckpointLayout.huggingFaceConfigFile, names: names)
            return try ModelReader(directory: directory, layout: layout, source: model,
                                   tensors: EncoderTensors(names: names, encoder: configuration, adapter: nil),
                                   audioPrefixes: names.audioPrefixes, usedAttributes: [names.required(.numHeads)])
        }
        let configuration = try CheckpointConfiguration.read(directory: directory, layout: layout)
        return try ModelReader(directory: directory, layout: layout,
                               source: try openCheckpoint(directory: directory, layout: layout),
                               tensors: EncoderTensors(names: names, encoder: configuration.encoder,
                                                       adapter: configuration.adapter),
                               audioPrefixes: names.audioPrefixes)
    }

    /// The layout's weights: the sharded index when there is one, else the single file.
    static func openCheckpoint(directory: String, layout: CheckpointLayout) throws(ModelError) -> Checkpoint {
        switch layout {
        case .huggingFaceVoxtral, .huggingFaceWhisper:
            let index = directory + "/" + CheckpointLayout.huggingFaceIndexFile
            if FileManager.default.fileExists(atPath: index) { return try Checkpoint(index: index) }
            return try Checkpoint(file: directory + "/" + CheckpointLayout.huggingFaceWeightsFile)
        case .mistralVoxtral:
            return try Checkpoint(file: directory + "/" + CheckpointLayout.mistralWeightsFile)
        default:
            preconditionFailure("\(layout) holds no safetensors checkpoint (CTranslate2: model.bin)")
        }
    }
}
