// The constants of the Whisper / Voxtral front end, named once.
// Reference: SPEC.md §1; transformers WhisperFeatureExtractor.__init__ (feature_extraction_whisper.py),
// VoxtralProcessorKwargs._defaults (processing_voxtral.py).

/// Front-end settings. The STFT and filterbank constants are fixed by the models this engine serves; the mel-bin
/// count and the chunk length (the encoder's step) come from the model's family (FrontEndPolicy).
public struct FrontEndConfiguration: Sendable, Equatable, Hashable {
    /// Sample rate every model consumes (Hz).
    public static let sampleRate = 16_000
    /// STFT size and window length (samples).
    public static let fftLength = 400
    /// STFT hop (samples): 100 mel frames per second.
    public static let hopLength = 160
    /// Whisper's and Voxtral's chunk: 30 s of audio, the default of `samplesPerChunk`.
    public static let chunkSampleCount = 480_000
    /// Mel frames per Whisper chunk (chunkSampleCount / hopLength), the default of `framesPerChunk`.
    public static let chunkFrameCount = 3_000
    /// Frequency bins of the one-sided spectrum (fftLength / 2 + 1).
    public static let frequencyBinCount = 201
    /// Mel energies below this floor are clamped before log10.
    public static let melFloor: Float = 1e-10
    /// The dynamic range kept below the loudest log-mel value of the whole audio (log10 units).
    public static let dynamicRange: Float = 8

    /// 128 for Voxtral and Whisper large-v3; 80 for Whisper tiny … large-v2.
    public let melBinCount: Int
    /// Mel frames per chunk: the audio is zero-padded to whole chunks and cut into them (3000 = 30 s for Whisper).
    public let framesPerChunk: Int

    public init(melBinCount: Int = 128, framesPerChunk: Int = chunkFrameCount) {
        precondition(melBinCount > 0 && melBinCount <= 512, "mel-bin count out of range")
        // Chunks start on whole blocks of the batched FFT (8 frames).
        precondition(framesPerChunk > 0 && framesPerChunk % 8 == 0, "frames per chunk must be a positive multiple of 8")
        self.melBinCount = melBinCount
        self.framesPerChunk = framesPerChunk
    }

    /// 16 kHz samples per chunk (framesPerChunk · hopLength).
    public var samplesPerChunk: Int { framesPerChunk * Self.hopLength }

    /// Number of chunks for `sampleCount` samples at 16 kHz: ceil(count / samplesPerChunk). Zero for empty audio.
    public func chunkCount(sampleCount: Int) -> Int {
        (sampleCount + samplesPerChunk - 1) / samplesPerChunk
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
