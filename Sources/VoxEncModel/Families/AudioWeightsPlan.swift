// What of a model repository voxenc reads, decided before any weights are downloaded (`voxenc pull`): from the
// repository's file list and its small config files alone, through the same layout detection and the same tensor-name
// prefixes as the loaders (CheckpointLayout.detect, RealtimeFamily.layout, WhisperTensorNames.audioPrefixes,
// RealtimeTensors.audioPrefixes). Every tensor the loaders read lies under those prefixes, and the loaders report any
// tensor under them they did not read, so "the tensors under the prefixes" is exactly what loading needs.

import Foundation

/// The files and tensors of a repository that make a model directory voxenc loads.
public struct AudioWeightsPlan: Sendable, Equatable {
    /// How the weights are fetched.
    public enum Weights: Sendable, Equatable {
        /// A safetensors checkpoint read in part: `source` is the single file or the sharded set's index (in the
        /// repository), `prefixes` the names of the tensors to keep, `output` the local single file they go into
        /// (the name the layout loads).
        case sliced(source: String, isIndex: Bool, prefixes: [String], output: String)
        /// A file that cannot be sliced (CTranslate2's model.bin): fetched whole.
        case whole(String)
    }

    public var layout: CheckpointLayout
    /// The family's name ("whisper", "voxtral-realtime").
    public var family: String
    /// Small files copied as they are (configs), in the repository and in the local directory alike.
    public var configFiles: [String]
    public var weights: Weights

    /// Small files worth fetching before deciding: the configs the layouts read.
    public static let candidateConfigFiles = ["config.json", "params.json", "preprocessor_config.json",
                                              "generation_config.json"]

    /// The plan for a repository holding `repositoryFiles` (paths relative to its root), whose files named in
    /// `candidateConfigFiles` that it holds have been fetched into `configDirectory`. Throws what layout detection
    /// throws (`unrecognizedLayout` with the repository's files, `invalidConfiguration`, …).
    public static func make(configDirectory: String, repositoryFiles: Set<String>) throws(ModelError) -> AudioWeightsPlan {
        let present = { (names: [String]) in names.filter { repositoryFiles.contains($0) } }
        let optional = present(["preprocessor_config.json", "generation_config.json"])
        if let layout = try RealtimeFamily.layout(of: configDirectory, remoteFiles: repositoryFiles) {
            let prefixes = RealtimeTensors.audioPrefixes(layout)
            let padding = present([RealtimeFamily.paddingFile])  // tekken.json: the streaming pads and the delay
            if layout == .mistralRealtime {
                return AudioWeightsPlan(layout: layout, family: RealtimeFamily.name, configFiles: ["params.json"] + padding,
                                        weights: .sliced(source: "consolidated.safetensors", isIndex: false,
                                                         prefixes: prefixes, output: "consolidated.safetensors"))
            }
            return AudioWeightsPlan(layout: layout, family: RealtimeFamily.name,
                                    configFiles: ["config.json"] + optional + padding,
                                    weights: huggingFaceWeights(repositoryFiles, prefixes: prefixes))
        }
        let layout = try CheckpointLayout.detect(directory: configDirectory, remoteFiles: repositoryFiles)
        switch layout {
        case .ctranslate2Whisper:
            return AudioWeightsPlan(layout: layout, family: WhisperFamily.name,
                                    configFiles: present([CheckpointLayout.huggingFaceConfigFile, "preprocessor_config.json"]),
                                    weights: .whole(CheckpointLayout.ctranslate2ModelFile))
        case .mistralVoxtral:
            return AudioWeightsPlan(
                layout: layout, family: WhisperFamily.name, configFiles: [CheckpointLayout.mistralParamsFile],
                weights: .sliced(source: CheckpointLayout.mistralWeightsFile, isIndex: false,
                                 prefixes: WhisperTensorNames.for(layout).audioPrefixes,
                                 output: CheckpointLayout.mistralWeightsFile))
        default:  // the Hugging Face layouts (Voxtral, Whisper)
            return AudioWeightsPlan(layout: layout, family: WhisperFamily.name,
                                    configFiles: [CheckpointLayout.huggingFaceConfigFile] + optional,
                                    weights: huggingFaceWeights(repositoryFiles,
                                                                prefixes: WhisperTensorNames.for(layout).audioPrefixes))
        }
    }

    /// The index when the checkpoint is sharded, else model.safetensors; either way one local model.safetensors.
    private static func huggingFaceWeights(_ files: Set<String>, prefixes: [String]) -> Weights {
        let sharded = files.contains(CheckpointLayout.huggingFaceIndexFile)
        return .sliced(source: sharded ? CheckpointLayout.huggingFaceIndexFile : CheckpointLayout.huggingFaceWeightsFile,
                       isIndex: sharded, prefixes: prefixes, output: CheckpointLayout.huggingFaceWeightsFile)
    }

    /// Whether tensor `name` is one the loaders read.
    public func keeps(_ name: String) -> Bool {
        guard case .sliced(_, _, let prefixes, _) = weights else { return false }
        return prefixes.contains { name.hasPrefix($0) }
    }
}
