// The one list of encoder families (after mlx-swift-lm's LLMTypeRegistry and transformers' auto mappings). A new
// family is a folder under Families/ and one line in `builtIn`; a family defined outside this module (a test's, an
// app's) is one `register` call.

import Synchronization

public enum EncoderFamilies {
    /// The families voxenc ships, in the order they are asked; the first also says why a directory is no model.
    static let builtIn: [any EncoderFamily.Type] = [
        RealtimeFamily.self,  // before Whisper: its config.json has an audio_config too
        WhisperFamily.self,
    ]

    private static let registered = Mutex<[any EncoderFamily.Type]>([])

    /// Adds a family defined outside VoxEncModel; it is asked before the built-in ones. Registering twice is harmless.
    public static func register(_ family: any EncoderFamily.Type) {
        registered.withLock { families in
            if !families.contains(where: { ObjectIdentifier($0) == ObjectIdentifier(family) }) { families.append(family) }
        }
    }

    /// Every family, registered ones first.
    public static var all: [any EncoderFamily.Type] { registered.withLock { $0 } + builtIn }

    /// The family that recognises `directory`; Whisper's when none does (its loader then says what is wrong).
    public static func family(for directory: String) -> any EncoderFamily.Type {
        all.first { $0.recognises(directory: directory) } ?? WhisperFamily.self
    }

    /// Describes `directory` with its family, without keeping its weights.
    public static func describe(directory: String, threads: Int) throws(ModelError) -> ModelSummary {
        try family(for: directory).describe(directory: directory, threads: threads)
    }

    /// Loads `directory` with its family.
    public static func load(directory: String, policy: PrecisionPolicy) throws(EncoderLoadError) -> any EncoderModel {
        try family(for: directory).load(directory: directory, policy: policy)
    }
}
