// The one list of encoder families (after mlx-swift-lm's LLMTypeRegistry and transformers' auto mappings). A new
// family is a folder under Families/ and one line here.

public enum EncoderFamilies {
    /// In the order they are asked; the first family also reports why a directory is no model at all.
    public static let all: [any EncoderFamily.Type] = [
        WhisperFamily.self,
    ]

    /// The family that recognises `directory`; the first family when none does (its loader then says what is wrong).
    public static func family(for directory: String) -> any EncoderFamily.Type {
        all.first { $0.recognises(directory: directory) } ?? all[0]
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
