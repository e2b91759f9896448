// The front end's side of the engine: audio → the model's mel steps, pulled one at a time. For the whole-audio clamp
// (Whisper, Voxtral) a first pass over the audio (`Embedder.prepare`) finds the largest log10 mel value and the
// length; the second pass (`MelSource`) decodes again and hands out each step's normalised log-mel [M · 3000] in
// order. Memory: about one chunk of samples and one step of mel, whatever the duration. Bit-identical to slicing
// the whole-audio mel (LogMelSpectrogram.Log10Chunks).

import VoxEncAudio

/// Audio after the first pass: what its embedding will be, and the clamp's top value for the second pass.
struct PreparedAudio: Sendable {
    let path: String
    /// The encoded bytes, for audio uploaded rather than read from `path` (then only its name in messages).
    var bytes: [UInt8]? = nil
    let channels: ChannelSelection
    var info: EmbeddingsInfo
    /// The clamp's top: the whole audio's largest log10 mel value, or the family's fixed value.
    let maximum: Float
    /// Damaged-but-readable input, said once (e.g. "data ends mid-frame").
    let warnings: [String]

    /// The 16 kHz samples again, block by block (pass 2).
    func reopen() throws(AudioError) -> AudioStream {
        try AudioStream.open(path: path, bytes: bytes, channels: channels)
    }
}

extension AudioStream {
    /// Decodes `bytes` when given (named `path` in messages), else the file at `path`.
    static func open(path: String, bytes: [UInt8]?, channels: ChannelSelection) throws(AudioError) -> AudioStream {
        if let bytes { return try AudioStream(bytes: bytes, name: path, channels: channels) }
        return try AudioStream(contentsOf: path, channels: channels)
    }
}

/// Pass 2: each step's normalised log-mel, in order, from a stream of 16 kHz samples.
final class MelSource {
    private let spectrogram: LogMelSpectrogram
    private var chunks: LogMelSpectrogram.Log10Chunks
    private let read: () throws(VoxEncError) -> [Float]?
    private let maximum: Float
    /// Steps the first pass counted, and the name to report when the audio yields others.
    private let expected: Int
    private let name: String
    private var produced = 0
    /// The current step [M · 3000], reused.
    private let values: UnsafeMutableBufferPointer<Float>

    init(spectrogram: LogMelSpectrogram, maximum: Float, expectedSteps: Int, name: String,
         read: @escaping () throws(VoxEncError) -> [Float]?) {
        self.spectrogram = spectrogram
        chunks = LogMelSpectrogram.Log10Chunks(spectrogram)
        self.read = read
        self.maximum = maximum
        expected = expectedSteps
        self.name = name
        values = .allocate(capacity: spectrogram.configuration.melBinCount * spectrogram.configuration.framesPerChunk)
        values.initialize(repeating: 0)
    }

    /// Pass 2 over prepared audio, decoded again.
    convenience init(spectrogram: LogMelSpectrogram, prepared: PreparedAudio) throws(VoxEncError) {
        let stream: AudioStream
        do { stream = try prepared.reopen() } catch { throw .audio(error) }
        self.init(spectrogram: spectrogram, maximum: prepared.maximum, expectedSteps: prepared.info.chunkCount,
                  name: prepared.path, read: { () throws(VoxEncError) -> [Float]? in
                      do throws(AudioError) { return try stream.next() } catch { throw .audio(error) }
                  })
    }

    deinit { values.deallocate() }

    /// The next step's index and mel (valid until the next call); nil after the last. A file that yields other
    /// steps than the first pass counted (it changed in between) is reported, not trusted.
    func next() throws(VoxEncError) -> (index: Int, mel: UnsafeBufferPointer<Float>)? {
        guard let index = try chunks.next(read: read, into: values.baseAddress!) else {
            guard produced == expected else { throw changed(produced) }
            return nil
        }
        guard index < expected else { throw changed(index + 1) }
        produced = index + 1
        spectrogram.normalise(values, maximumLog10: maximum)
        return (index, UnsafeBufferPointer(values))
    }

    private func changed(_ count: Int) -> VoxEncError {
        .audio(.corrupt(path: name, reason: "the file changed while it was read (\(expected) chunks, then \(count))"))
    }
}
