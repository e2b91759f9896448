// The name of a model directory's on-disk layout, as its family detected it ("huggingFaceVoxtral", "ctranslate2Whisper",
// …): an open set, so that a new family names its own layouts without touching this file. Each family declares its
// layouts as static constants (the Whisper family's: WhisperLayouts.swift).

public struct CheckpointLayout: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    public var description: String { rawValue }
}
