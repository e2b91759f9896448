// A file as a stream of 16 kHz mono blocks: decode (libsndfile) → downmix → resample (soxr HQ), block by block.
// soxr gives the same samples whatever the block sizes (tested), so reading a file twice gives the same stream.

/// Reads `path` block by block. Not thread-safe: one reader per stream.
public final class AudioStream {
    public let path: String
    public let info: AudioFileInfo
    public let channels: ChannelSelection
    /// Damage read past: what libsndfile noticed on opening (see `AudioFile.warnings`), and, once the stream has
    /// ended, fewer frames decoded than the header declares (a FLAC or Ogg file cut short or damaged mid-stream).
    public var warnings: [String] { file.warnings + endOfStreamWarnings }
    /// Source frames decoded so far (all of them once `next()` has returned nil).
    public private(set) var sourceFrameCount = 0
    /// 16 kHz samples returned so far.
    private var outputCount = 0

    private let file: AudioFile
    private let resampler: Resampler
    private var interleaved: [Float]
    private var mono: [Float]
    private var finished = false
    private var endOfStreamWarnings: [String] = []
    static let blockFrames = 65_536

    public convenience init(contentsOf path: String, channels: ChannelSelection = .average,
                            quality: ResamplerQuality = .high) throws(AudioError) {
        try self.init(file: AudioFile(path: path), channels: channels, quality: quality)
    }

    /// Reads an encoded file held in memory; `name` stands for its path in errors and warnings.
    public convenience init(bytes: [UInt8], name: String, channels: ChannelSelection = .average,
                            quality: ResamplerQuality = .high) throws(AudioError) {
        try self.init(file: AudioFile(bytes: bytes, name: name), channels: channels, quality: quality)
    }

    private init(file: AudioFile, channels: ChannelSelection, quality: ResamplerQuality) throws(AudioError) {
        let path = file.info.path
        if case .channel(let index) = channels, index < 0 || index >= file.info.channelCount {
            throw .channelOutOfRange(path: path, requested: index, available: file.info.channelCount)
        }
        do {
            resampler = try Resampler(inputRate: Double(file.info.sampleRate),
                                      outputRate: Double(FrontEndConfiguration.sampleRate), quality: quality)
        } catch {
            throw .resamplerFailed(path: path, reason: error.reason)
        }
        self.path = path
        self.file = file
        self.info = file.info
        self.channels = channels
        interleaved = [Float](repeating: 0, count: Self.blockFrames * file.info.channelCount)
        mono = [Float](repeating: 0, count: Self.blockFrames)
    }

    /// The next block of 16 kHz mono samples (possibly empty while the resampler fills up); nil after the end.
    /// Throws `noSamples` for a file with no frames, `nonFiniteSample`, `corrupt` or `resamplerFailed`.
    public func next() throws(AudioError) -> [Float]? {
        guard !finished else { return nil }
        let channelCount = info.channelCount
        let count = try interleaved.withUnsafeMutableBufferPointer { buffer throws(AudioError) in
            try file.readFrames(into: buffer.baseAddress!, frameCapacity: Self.blockFrames)
        }
        var output: [Float] = []
        do {
            if count == 0 {
                finished = true
                guard sourceFrameCount > 0 else { throw AudioError.noSamples(path: path) }
                if let warning = Self.shortfallWarning(declared: info.declaredFrameCount, decoded: sourceFrameCount,
                                                       formatName: info.formatName, alreadyWarned: !file.warnings.isEmpty) {
                    endOfStreamWarnings.append(warning)
                }
                try resampler.finish(appendingTo: &output)
                outputCount += output.count
                guard outputCount > 0 else {
                    throw AudioError.shorterThanOneSample(path: path, frames: sourceFrameCount, sampleRate: info.sampleRate)
                }
                return output
            }
            try Waveform.downmix(interleaved, frames: count, channels: channelCount, selection: channels,
                                 into: &mono, path: path, firstFrame: sourceFrameCount)
            sourceFrameCount += count
            output.reserveCapacity(Int(Double(count) * 16000 / Double(info.sampleRate)) + 64)
            try mono.withUnsafeBufferPointer { buffer throws(ResamplerError) in
                try resampler.process(UnsafeBufferPointer(rebasing: buffer[0..<count]), appendingTo: &output)
            }
            outputCount += output.count
        } catch let error as AudioError {
            throw error
        } catch let error as ResamplerError {
            throw .resamplerFailed(path: path, reason: error.reason)
        } catch {
            throw .corrupt(path: path, reason: "\(error)")
        }
        return output
    }

    /// A warning when the stream ended before the frames its header declares. Not for MP3, whose declared length is
    /// an estimate when there is no Xing/LAME tag, nor for an unknown length, nor twice for a WAV whose data chunk
    /// libsndfile already found short.
    static func shortfallWarning(declared: Int, decoded: Int, formatName: String, alreadyWarned: Bool) -> String? {
        guard !alreadyWarned, decoded < declared, declared < Int(Int64.max), !formatName.hasPrefix("MPEG") else { return nil }
        return "the header declares \(declared) frames, \(decoded) decoded: decoded what is there (truncated or damaged?)"
    }
}
