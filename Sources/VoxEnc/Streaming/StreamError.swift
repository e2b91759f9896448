// Why a live stream refused its input or its use. Every case names the problem and says what to do instead.

public enum StreamError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The model's encoder is not causal (Whisper, Voxtral): it embeds whole recordings only.
    case notCausal(model: String, family: String)
    /// push or finish after finish.
    case finished
    /// A step that is not a positive number of whole 80 ms tokens.
    case invalidStep(milliseconds: Int)
    /// A sample rate outside 1 Hz … 1 MHz.
    case invalidSampleRate(Int)
    /// A push at another rate than the stream's first.
    case sampleRateChanged(from: Int, to: Int)
    /// NaN or infinity at `index` of a push.
    case nonFiniteSample(index: Int)
    /// More audio than the stream's limit.
    case tooLong(seconds: Double, limit: Double)

    public var description: String {
        switch self {
        case .notCausal(let model, let family):
            return "\(model) is a \(family) model, which embeds whole recordings only; live streams need a causal "
                + "encoder (Voxtral Realtime)"
        case .finished: return "the stream is finished; it takes no more audio"
        case .invalidStep(let ms): return "step of \(ms) ms: a step is a positive multiple of 80 ms (one token)"
        case .invalidSampleRate(let rate): return "sample rate \(rate) Hz is not a plausible audio rate"
        case .sampleRateChanged(let from, let to):
            return "sample rate changed from \(from) Hz to \(to) Hz within one stream"
        case .nonFiniteSample(let index): return "sample \(index) of the pushed block is NaN or infinite"
        case .tooLong(let seconds, let limit):
            return String(format: "the stream reached %.1f s of audio, over its limit of %.1f s", seconds, limit)
        }
    }

    public var hint: String? {
        switch self {
        case .notCausal: return "use `voxenc embed` for this model, or a Voxtral Realtime model for live audio"
        case .finished: return "open a new stream"
        case .invalidStep: return "use 80, 160, …, 480 (the default)"
        case .invalidSampleRate, .sampleRateChanged: return "send 16 kHz mono, or one fixed rate per stream"
        case .nonFiniteSample: return "send finite float samples in [-1, 1]"
        case .tooLong: return "finish this stream and open another"
        }
    }
}
