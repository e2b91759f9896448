// Typed errors of the front end. Each names the file; `hint` says what to do about it.

/// An audio input that could not be turned into 16 kHz mono samples.
public enum AudioError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Nothing exists at the path.
    case fileNotFound(path: String)
    /// The path is a directory, a device or something else that is not a plain file.
    case notARegularFile(path: String)
    /// The operating system refused to read the file (permissions, I/O error).
    case unreadable(path: String, reason: String)
    /// A container or codec libsndfile does not decode (M4A/AAC, video, …).
    case unsupportedFormat(path: String, detected: String)
    /// libsndfile recognised nothing it can decode, or the stream broke while decoding.
    case corrupt(path: String, reason: String)
    /// The file decodes to zero audio frames.
    case noSamples(path: String)
    /// The audio is shorter than one 16 kHz sample (one frame at 192 kHz): resampling leaves nothing, and the
    /// reference's feature extractor refuses an empty array.
    case shorterThanOneSample(path: String, frames: Int, sampleRate: Int)
    /// A decoded sample is NaN or infinite.
    case nonFiniteSample(path: String, frame: Int, channel: Int)
    /// `--channel N` asked for a channel the file does not have.
    case channelOutOfRange(path: String, requested: Int, available: Int)
    /// A sample rate no resampler can handle (zero, negative or absurd).
    case invalidSampleRate(path: String, sampleRate: Int)
    /// soxr refused to resample.
    case resamplerFailed(path: String, reason: String)

    /// The formats libsndfile decodes here (Debian's libsndfile 1.2 links FLAC, Ogg/Vorbis, Opus and mpg123).
    public static let supportedFormats = "WAV/WAVE_EXTENSIBLE (8/16/24/32-bit PCM, float), AIFF, FLAC, OGG Vorbis, Opus, MP3"

    public var path: String {
        switch self {
        case .fileNotFound(let path), .notARegularFile(let path), .unreadable(let path, _),
             .unsupportedFormat(let path, _), .corrupt(let path, _), .noSamples(let path),
             .shorterThanOneSample(let path, _, _),
             .nonFiniteSample(let path, _, _), .channelOutOfRange(let path, _, _),
             .invalidSampleRate(let path, _), .resamplerFailed(let path, _):
            return path
        }
    }

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "\(path): no such file"
        case .notARegularFile(let path):
            return "\(path): not a regular file"
        case .unreadable(let path, let reason):
            return "\(path): cannot read: \(reason)"
        case .unsupportedFormat(let path, let detected):
            return "\(path): unsupported format (\(detected)); supported: \(Self.supportedFormats)"
        case .corrupt(let path, let reason):
            return "\(path): unreadable or corrupt audio: \(reason)"
        case .noSamples(let path):
            return "\(path): the file holds no audio samples"
        case .shorterThanOneSample(let path, let frames, let sampleRate):
            return "\(path): \(frames) frame(s) at \(sampleRate) Hz is shorter than one 16 kHz sample: nothing to embed"
        case .nonFiniteSample(let path, let frame, let channel):
            return "\(path): non-finite sample (NaN or Inf) at frame \(frame), channel \(channel)"
        case .channelOutOfRange(let path, let requested, let available):
            return "\(path): channel \(requested) requested, but the file has \(available) channel(s) (0-based)"
        case .invalidSampleRate(let path, let sampleRate):
            return "\(path): invalid sample rate \(sampleRate) Hz"
        case .resamplerFailed(let path, let reason):
            return "\(path): resampling to 16 kHz failed: \(reason)"
        }
    }

    /// What the user can do about it, when there is something to say.
    public var hint: String? {
        switch self {
        case .unsupportedFormat:
            return "convert first, e.g. `ffmpeg -i input.m4a -ac 1 -ar 16000 output.wav` (M4A/AAC is not supported)"
        case .corrupt:
            return "check that the file plays; re-encode it to WAV or FLAC"
        case .channelOutOfRange:
            return "omit --channel to average all channels"
        case .nonFiniteSample:
            return "the file's float samples are damaged; re-export it"
        default:
            return nil
        }
    }
}
