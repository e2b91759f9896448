// Loads a model directory (Hugging Face Voxtral, Mistral Voxtral, Hugging Face Whisper, or CTranslate2 /
// faster-whisper Whisper) into float32 weights.
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
    /// is). Reads only the audio tensors of the checkpoint; every shape is checked against the config file first.
    public static func load(directory: String) throws(ModelError) -> LoadedModel {
        let directory = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        let layout = try CheckpointLayout.detect(directory: directory)
        guard let names = TensorNames.for(layout) else { return try loadCTranslate2(directory: directory) }
        let configuration = try CheckpointConfiguration.read(directory: directory, layout: layout)
        let checkpoint = try openCheckpoint(directory: directory, layout: layout)

        var expectations = EncoderWeights.expectations(names: names, configuration: configuration.encoder)
        if let adapter = configuration.adapter {
            expectations += AdapterWeights.expectations(names: names, configuration: adapter)
        }
        let reader = try WeightReader(source: checkpoint, expectations: expectations)
        let encoder = try EncoderWeights(reading: reader, names: names, configuration: configuration.encoder)
        var adapter: AdapterWeights?
        if let adapterConfiguration = configuration.adapter {
            adapter = try AdapterWeights(reading: reader, names: names, configuration: adapterConfiguration)
        }

        let used = Set(reader.readNames)
        let unused = checkpoint.tensorNames.filter { name in
            !used.contains(name) && names.audioPrefixes.contains { name.hasPrefix($0) }
        }
        let description = ModelDescription(path: directory, layout: layout, encoder: configuration.encoder,
                                           adapter: configuration.adapter, storedDType: reader.storedDType,
                                           parameterCount: reader.parameterCount, digest: reader.digest())
        return LoadedModel(description: description, encoder: encoder, adapter: adapter, unusedTensors: unused)
    }

    /// A CTranslate2 Whisper directory: model.bin mapped once; shapes give the configuration, then the encoder
    /// variables are read (int8/int16 dequantized) and the decoder is never touched.
    static func loadCTranslate2(directory: String) throws(ModelError) -> LoadedModel {
        let names = CTranslate2TensorNames.whisper
        let model = try CTranslate2Model(contentsOf: directory + "/" + CheckpointLayout.ctranslate2ModelFile)
        let configuration = try CTranslate2Whisper.configuration(
            of: model, configPath: directory + "/" + CheckpointLayout.huggingFaceConfigFile, names: names)
        let reader = try WeightReader(source: model,
                                      expectations: EncoderWeights.expectations(names: names, configuration: configuration))
        let encoder = try EncoderWeights(reading: reader, names: names, configuration: configuration)

        // Not unused: the attribute num_heads and the scales of the weights read.
        let used = Set(reader.readNames + reader.readNames.compactMap(model.scaleName(of:)) + [names.numHeads])
        let unused = model.allNames.filter { $0.hasPrefix(names.encoderPrefix) && !used.contains($0) }
        let description = ModelDescription(path: directory, layout: .ctranslate2Whisper, encoder: configuration,
                                           adapter: nil, storedDType: reader.storedDType,
                                           parameterCount: reader.parameterCount, digest: reader.digest())
        return LoadedModel(description: description, encoder: encoder, adapter: nil, unusedTensors: unused)
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
        case .ctranslate2Whisper:
            preconditionFailure("CTranslate2 directories are loaded by loadCTranslate2(directory:)")
        }
    }
}
