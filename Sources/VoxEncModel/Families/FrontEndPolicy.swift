// What a family asks of the front end: the mel bins, how the log-mel is clamped, and how the audio is cut into the
// steps the encoder consumes. The front end (VoxEncAudio) computes the same 16 kHz log-mel (n_fft 400, hop 160) for
// every family; the engine maps this policy onto it (Embedder's front end, MelSource).

public struct FrontEndPolicy: Sendable, Equatable {
    /// How log10 mel values are bounded below before scaling (x ← (max(x, top − 8) + 4) / 4).
    public enum Clamp: Sendable, Equatable {
        /// top = the whole audio's largest value (Whisper, Voxtral: WhisperFeatureExtractor), so a first pass over
        /// the audio comes before any step is final.
        case wholeAudioMaximum
        /// top = a constant (Voxtral Realtime's `global_log_mel_max`): each frame depends on its own samples only.
        case fixed(Float)
    }

    /// How the mel is cut into the encoder's steps.
    public enum Steps: Sendable, Equatable {
        /// Independent chunks of `melFrames` frames, the last zero-padded, positions reset in each (Whisper: 3000).
        case independentChunks(melFrames: Int)
        /// A causal stream of tokens of `melFrames` frames (Voxtral Realtime: 8, 80 ms): `leftPadTokens` silent tokens
        /// before the audio (mistral-common's streaming left pad); offline, the audio is zero-padded to whole tokens
        /// and `rightPadTokens` more. Positions run from the stream's start; nothing resets.
        case causalTokens(melFrames: Int, leftPadTokens: Int, rightPadTokens: Int)
    }

    public var melBinCount: Int
    public var clamp: Clamp
    public var steps: Steps

    public init(melBinCount: Int, clamp: Clamp, steps: Steps) {
        self.melBinCount = melBinCount
        self.clamp = clamp
        self.steps = steps
    }

    /// Mel frames per second of audio: 16 kHz with a hop of 160 samples, for every family.
    public static let melFramesPerSecond = 100

    /// Whether the steps are a causal stream of tokens.
    public var isCausal: Bool {
        if case .causalTokens = steps { return true }
        return false
    }

    /// Seconds of audio per step (Whisper: 3000 frames = 30 s; Voxtral Realtime: a token, 80 ms).
    public var stepSeconds: Double { Double(melFramesPerStep) / Double(Self.melFramesPerSecond) }

    /// Mel frames per step.
    public var melFramesPerStep: Int {
        switch steps {
        case .independentChunks(let frames): return frames
        case .causalTokens(let frames, _, _): return frames
        }
    }
}
