// The constants of the Whisper / Voxtral front end, named once.
// Reference: SPEC.md §1; transformers WhisperFeatureExtractor.__init__ (feature_extraction_whisper.py),
// VoxtralProcessorKwargs._defaults (processing_voxtral.py).

/// Front-end settings. Everything but the mel-bin count is fixed by the models this engine serves.
public struct FrontEndConfiguration: Sendable, Equatable, Hashable {
    /// Sample rate every model consumes (Hz).
    public static let sampleRate = 16_000
    /// STFT size and window length (samples).
    public static let fftLength = 400
    /// STFT hop (samples): 100 mel frames per second.
    public static let hopLength = 160
    /// One encoder chunk: 30 s of audio.
    public static let chunkSampleCount = 480_000
    /// Mel frames per chunk (chunkSampleCount / hopLength).
    public static let chunkFrameCount = 3_000
    /// Frequency bins of the one-sided spectrum (fftLength / 2 + 1).
    public static let frequencyBinCount = 201
    /// Mel energies below this floor are clamped before log10.
    public static let melFloor: Float = 1e-10
    /// The dynamic range kept below the loudest log-mel value of the whole audio (log10 units).
    public static let dynamicRange: Float = 8

    /// 128 for Voxtral and Whisper large-v3; 80 for Whisper tiny … large-v2.
    public let melBinCount: Int

    public init(melBinCount: Int = 128) {
        precondition(melBinCount > 0 && melBinCount <= 512, "mel-bin count out of range")
        self.melBinCount = melBinCount
    }

    /// Voxtral Mini/Small and Whisper large-v3.
    public static let voxtral = FrontEndConfiguration(melBinCount: 128)
    /// Whisper tiny … large-v2.
    public static let whisper80 = FrontEndConfiguration(melBinCount: 80)

    /// Number of 30 s chunks for `sampleCount` samples at 16 kHz: ceil(count / 480000). Zero for empty audio.
    public static func chunkCount(sampleCount: Int) -> Int {
        (sampleCount + chunkSampleCount - 1) / chunkSampleCount
    }
}
