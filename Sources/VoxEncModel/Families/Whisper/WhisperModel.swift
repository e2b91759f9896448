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

    public var frontEnd: FrontEndPolicy { Self.frontEnd(encoder.configuration) }

    public func output(_ kind: EmbeddingKind) -> OutputGeometry {
        Self.output(kind, encoder: encoder.configuration, adapter: adapter?.weights.configuration)
    }

    /// WhisperFeatureExtractor: the clamp at the whole audio's maximum; independent chunks of 2T frames (30 s).
    static func frontEnd(_ c: EncoderConfiguration) -> FrontEndPolicy {
        FrontEndPolicy(melBinCount: c.melBinCount, clamp: .wholeAudioMaximum,
                       steps: .independentChunks(melFrames: c.melFrameCount))
    }

    /// Encoder: T rows of D per chunk; adapter: T / 4 rows of Dt.
    static func output(_ kind: EmbeddingKind, encoder c: EncoderConfiguration, adapter: AdapterConfiguration?)
        -> OutputGeometry {
        let seconds = frontEnd(c).stepSeconds
        guard kind == .adapter, let a = adapter else {
            return OutputGeometry(width: c.modelDimension, rowsPerStep: c.maxPositions, stepSeconds: seconds)
        }
        return OutputGeometry(width: a.outputDimension, rowsPerStep: c.maxPositions / a.stackFactor, stepSeconds: seconds)
    }

    public func makeSession(capacity: Int, threads: Int) -> any EncoderSession {
        WhisperSession(model: self, capacity: capacity, threads: threads)
    }
}
