// The passes every embedding makes over its audio, and the step loop that feeds the batch encoder. Pass 1
// (`prepare`) decodes the audio once for the clamp's whole-audio maximum (when the family's front end needs it), its
// length and source facts; pass 2 (MelSource) decodes again and hands out the steps; `encodeSteps` batches them.

import VoxEncAudio
import VoxEncModel

extension Embedder {
    enum PrepareError: Error { case embedding(VoxEncError), tooLong(samples: Int) }

    /// Pass 1 over a file.
    func prepare(fileAt path: String, channels: ChannelSelection) throws(VoxEncError) -> PreparedAudio {
        do {
            return try prepare(path: path, bytes: nil, channels: channels, kind: kind)
        } catch {
            switch error {
            case .embedding(let error): throw error
            case .tooLong: preconditionFailure("no sample limit was given")
            }
        }
    }

    /// Pass 1 over encoded bytes in memory (`name` stands for the path in messages), for `kind`'s output. With
    /// `maximumSamples`, stops reading past that many 16 kHz samples and throws `tooLong(samples:)`.
    func prepare(bytes: [UInt8], name: String, channels: ChannelSelection, kind: EmbeddingKind,
                 maximumSamples: Int? = nil) throws(PrepareError) -> PreparedAudio {
        try prepare(path: name, bytes: bytes, channels: channels, kind: kind, maximumSamples: maximumSamples)
    }

    private func prepare(path: String, bytes: [UInt8]?, channels: ChannelSelection, kind: EmbeddingKind,
                         maximumSamples: Int? = nil) throws(PrepareError) -> PreparedAudio {
        let start = now()
        let first: AudioStream
        do { first = try AudioStream.open(path: path, bytes: bytes, channels: channels) } catch {
            throw .embedding(.audio(error))
        }
        var read = 0
        let readBlock = { () throws(PrepareError) -> [Float]? in
            let block: [Float]?
            do throws(AudioError) { block = try first.next() } catch { throw .embedding(.audio(error)) }
            read += block?.count ?? 0
            if let maximumSamples, read > maximumSamples { throw .tooLong(samples: read) }
            return block
        }
        let (maximum, sampleCount) = try firstPass(read: readBlock)
        let duration = Double(first.sourceFrameCount) / Double(first.info.sampleRate)
        var timings = Timings()
        timings.audioSeconds = duration
        timings.decode = now() - start
        let info = makeInfo(kind: kind, sampleCount: sampleCount, duration: duration,
                            sourceSampleRate: first.info.sampleRate, sourceChannelCount: first.info.channelCount,
                            timings: timings)
        return PreparedAudio(path: path, bytes: bytes, channels: channels, info: info, maximum: maximum,
                             warnings: first.warnings)
    }

    /// The description of `kind`'s output for `sampleCount` samples at 16 kHz.
    func makeInfo(kind: EmbeddingKind, sampleCount: Int, duration: Double, sourceSampleRate: Int,
                  sourceChannelCount: Int, timings: Timings) -> EmbeddingsInfo {
        let output = output(kind)
        let steps = frontEnd.configuration.chunkCount(sampleCount: sampleCount)
        return EmbeddingsInfo(frameCount: steps * output.rowsPerStep, dimension: output.width, kind: kind,
                              frameRate: output.rowsPerSecond,
                              validFrameCount: Self.validFrames(duration: duration, rate: output.rowsPerSecond,
                                                                limit: steps * output.rowsPerStep),
                              durationSeconds: duration, chunkCount: steps, stepSeconds: output.stepSeconds,
                              sourceSampleRate: sourceSampleRate, sourceChannelCount: sourceChannelCount,
                              melBinCount: frontEnd.configuration.melBinCount, model: model, timings: timings,
                              precision: configuration.precision, int8FloatLayers: int8FloatLayers)
    }

    /// Pass 1 over the samples `read` gives: the clamp's top (the whole audio's largest log10 mel value, or the
    /// family's constant) and the sample count (a fixed clamp still reads, for the length).
    func firstPass<E: Error>(read: () throws(E) -> [Float]?) throws(E) -> (top: Float, sampleCount: Int) {
        var maximum: Float = -.infinity
        let count = try frontEnd.forEachLog10Chunk(read: read) { _, values throws(E) in
            for v in values { maximum = max(maximum, v) }
        }
        if case .fixed(let top) = encoderModel.frontEnd.clamp { return (top, count) }
        return (maximum, count)
    }

    /// Pass 2's encoding: the steps of `source`, encoded `chunksPerBatch` at a time, their rows handed to `sink` in
    /// order. Returns the seconds spent in the mel (decode included), encoder and adapter.
    func encodeSteps<E: Error>(of source: MelSource, chunkCount: Int, sink: (ChunkEmbeddings) throws(E) -> Void)
        throws(E) -> (mel: Double, encoder: Double, adapter: Double) where E: Error {
        let start = now()
        var batch = BatchEncoder<Int>(embedder: self)
        var encoderSeconds = 0.0, adapterSeconds = 0.0
        let output = batch.output
        // One value per step, whatever the batch: a stream's consumer sees steps, not batches.
        func deliver(_ done: EncodedBatch<Int>) throws(E) {
            encoderSeconds += done.encoderSeconds
            adapterSeconds += done.adapterSeconds
            for (position, entry) in done.entries.enumerated() {
                try sink(ChunkEmbeddings(index: entry.step, chunkCount: chunkCount, values: Array(done.values(at: position)),
                                         rowCount: output.rowsPerStep, dimension: output.width,
                                         startSeconds: Double(entry.step) * output.stepSeconds))
            }
        }
        while true {
            // A file that changed is a VoxEncError; callers whose sinks throw something else never read files.
            let step: (index: Int, mel: UnsafeBufferPointer<Float>)?
            do { step = try source.next() } catch {
                if let error = error as? E { throw error }
                preconditionFailure("samples in memory cannot change while they are read: \(error)")
            }
            guard let step else { break }
            try batch.append(step.mel, owner: step.index, index: step.index, deliver: deliver)
        }
        try batch.flush(deliver: deliver)
        let total = now() - start
        return (max(0, total - encoderSeconds - adapterSeconds), encoderSeconds, adapterSeconds)
    }

    /// Reads an in-memory signal one chunk's worth of samples at a time (what the front end consumes).
    func blocks(of samples: [Float]) -> () -> [Float]? {
        var position = 0
        let blockSize = frontEnd.configuration.samplesPerChunk
        return {
            guard position < samples.count else { return nil }
            let end = min(samples.count, position + blockSize)
            defer { position = end }
            return Array(samples[position..<end])
        }
    }

    /// ceil(duration · rate), computed in a way that is exact for whole multiples (30 s → 375).
    static func validFrames(duration: Double, rate: Double, limit: Int) -> Int {
        let exact = duration * rate
        let rounded = exact.rounded()
        let frames = abs(exact - rounded) < 1e-9 ? Int(rounded) : Int(exact.rounded(.up))
        return min(max(frames, 0), limit)
    }
}
