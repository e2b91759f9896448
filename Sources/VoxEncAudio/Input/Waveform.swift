// File → 16 kHz mono float32, decoded and resampled in blocks: a multi-hour file is never held at its native rate.
// Reference: mistral-common Audio.from_file (soundfile, dtype float32; mean over channels when strict=False) and
// Audio.resample (soxr HQ). Downmixing is the plain average of the channels, as numpy's mean(axis=1).

/// How several channels become one.
public enum ChannelSelection: Sendable, Equatable, Hashable {
    /// The average of all channels (the reference's `mean(axis=1)`).
    case average
    /// One channel, 0-based.
    case channel(Int)
}

/// Mono audio at 16 kHz, with where it came from.
public struct Waveform: Sendable {
    /// float32 samples at `FrontEndConfiguration.sampleRate`.
    public var samples: [Float]
    /// Native rate of the source (Hz) before resampling.
    public var sourceSampleRate: Int
    public var sourceChannelCount: Int
    /// Frames decoded from the source.
    public var sourceFrameCount: Int
    /// e.g. "WAV PCM_16"; "memory" for buffers.
    public var sourceFormat: String
    /// Damage that was read past (see `AudioFile.warnings`): worth a warning, not a failure.
    public var warnings: [String] = []

    public var sampleRate: Int { FrontEndConfiguration.sampleRate }
    /// Duration of the source audio, exact: source frames / source rate.
    public var durationSeconds: Double { Double(sourceFrameCount) / Double(sourceSampleRate) }

    /// Decodes `path` and converts it to 16 kHz mono.
    /// - Throws: `AudioError` naming the file: missing, not a file, unreadable, unsupported, corrupt, empty,
    ///   non-finite samples, or a channel out of range.
    public init(contentsOf path: String, channels: ChannelSelection = .average,
                quality: ResamplerQuality = .high) throws(AudioError) {
        try self.init(stream: AudioStream(contentsOf: path, channels: channels, quality: quality))
    }

    /// Decodes an encoded file held in memory (WAV, FLAC, OGG, MP3 … bytes; no temporary file) and converts it to
    /// 16 kHz mono. `name` stands for the path in errors, e.g. an upload's file name.
    public init(bytes: [UInt8], name: String, channels: ChannelSelection = .average,
                quality: ResamplerQuality = .high) throws(AudioError) {
        try self.init(stream: AudioStream(bytes: bytes, name: name, channels: channels, quality: quality))
    }

    private init(stream: AudioStream) throws(AudioError) {
        var output: [Float] = []
        // The header's frame count is a hint, not a promise (a 42-byte FLAC may declare 2^36 frames): reserve at most
        // an hour's worth; the array grows past it if the audio is really longer.
        let declared = min(stream.info.declaredFrameCount, stream.info.sampleRate * 3600)
        output.reserveCapacity(Int(Double(declared) * 16000 / Double(stream.info.sampleRate)) + 1024)
        while let block = try stream.next() { output += block }
        self.samples = output
        self.sourceSampleRate = stream.info.sampleRate
        self.sourceChannelCount = stream.info.channelCount
        self.sourceFrameCount = stream.sourceFrameCount
        self.sourceFormat = stream.info.formatName
        self.warnings = stream.warnings
    }

    /// Wraps mono samples of any rate, resampling to 16 kHz when needed.
    public init(samples: [Float], sampleRate: Int, quality: ResamplerQuality = .high) throws(AudioError) {
        let label = "<memory>"
        guard AudioFile.sampleRateRange.contains(Int32(clamping: sampleRate)) else {
            throw .invalidSampleRate(path: label, sampleRate: sampleRate)
        }
        if let bad = samples.firstIndex(where: { !$0.isFinite }) {
            throw .nonFiniteSample(path: label, frame: bad, channel: 0)
        }
        do {
            self.samples = try Resampler.resample(samples, from: Double(sampleRate),
                                                  to: Double(FrontEndConfiguration.sampleRate), quality: quality)
        } catch {
            throw .resamplerFailed(path: label, reason: error.reason)
        }
        guard !self.samples.isEmpty || samples.isEmpty else {
            throw .shorterThanOneSample(path: label, frames: samples.count, sampleRate: sampleRate)
        }
        self.sourceSampleRate = sampleRate
        self.sourceChannelCount = 1
        self.sourceFrameCount = samples.count
        self.sourceFormat = "memory"
    }

    /// Interleaved [frames, channels] → mono, rejecting NaN and ±Inf (the reference would propagate them silently).
    static func downmix(_ interleaved: [Float], frames: Int, channels: Int, selection: ChannelSelection,
                        into mono: inout [Float], path: String, firstFrame: Int) throws(AudioError) {
        var finite = true
        interleaved.withUnsafeBufferPointer { source in
            mono.withUnsafeMutableBufferPointer { target in
                switch (selection, channels) {
                case (.average, 1):
                    for frame in 0..<frames { target[frame] = source[frame] }
                case (.average, _):
                    let divisor = Float(channels)
                    for frame in 0..<frames {
                        // numpy's float32 mean(axis=1): a left-to-right sum (for fewer than 8 channels), then / n.
                        var sum: Float = 0
                        for channel in 0..<channels { sum += source[frame * channels + channel] }
                        target[frame] = sum / divisor
                    }
                case (.channel(let index), _):
                    for frame in 0..<frames { target[frame] = source[frame * channels + index] }
                }
                for frame in 0..<frames where !target[frame].isFinite { finite = false; break }
            }
        }
        if !finite {
            // Locate the first offending sample for the message.
            for frame in 0..<frames {
                for channel in 0..<channels where !interleaved[frame * channels + channel].isFinite {
                    throw .nonFiniteSample(path: path, frame: firstFrame + frame, channel: channel)
                }
            }
            throw .nonFiniteSample(path: path, frame: firstFrame, channel: 0)
        }
    }
}
