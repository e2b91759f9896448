// A loaded Whisper-style model: the encoder (chunks of 2T mel frames → T rows of width D, positions reset per chunk)
// and, for Voxtral, the adapter (4 frames stacked → Dt). Letters: T = maxPositions (1500), M mel bins.

public struct WhisperModel: EncoderModel {
    public let description: ModelDescription
    public let encoder: AudioEncoder
    public let adapter: Adapter?

    public init(description: ModelDescription, encoder: AudioEncoder, adapter: Adapter?) {
        self.description = description
        self.encoder = encoder
        self.adapter = adapter
    }

    public var policy: PrecisionPolicy { encoder.policy }
    public var hasAdapter: Bool { adapter != nil }

    /// WhisperFeatureExtractor: the clamp at the whole audio's maximum; independent chunks of 2T frames (30 s).
    public var frontEnd: FrontEndPolicy {
        FrontEndPolicy(melBinCount: encoder.configuration.melBinCount, clamp: .wholeAudioMaximum,
                       steps: .independentChunks(melFrames: encoder.configuration.melFrameCount))
    }

    /// Encoder: T rows of D per chunk; adapter: T / 4 rows of Dt.
    public func output(_ kind: EmbeddingKind) -> OutputGeometry {
        let c = encoder.configuration, seconds = frontEnd.stepSeconds
        guard kind == .adapter, let adapter else {
            return OutputGeometry(width: c.modelDimension, rowsPerStep: c.maxPositions, stepSeconds: seconds)
        }
        let a = adapter.weights.configuration
        return OutputGeometry(width: a.outputDimension, rowsPerStep: c.maxPositions / a.stackFactor, stepSeconds: seconds)
    }

    public func makeSession(capacity: Int, threads: Int) -> any EncoderSession {
        WhisperSession(model: self, capacity: capacity, threads: threads)
    }
}
