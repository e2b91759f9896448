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
        if case .causalTokens(_, let left, let right) = encoderModel.frontEnd.steps {
            // The padded token sequence: left pad, the audio in whole tokens, the offline right pad.
            var info = EmbeddingsInfo(frameCount: (left + steps + right) * output.rowsPerStep, dimension: output.width,
                                      kind: kind, frameRate: output.rowsPerSecond,
                                      validFrameCount: steps * output.rowsPerStep, durationSeconds: duration,
                                      chunkCount: left + steps + right, stepSeconds: output.stepSeconds,
                                      sourceSampleRate: sourceSampleRate, sourceChannelCount: sourceChannelCount,
                                      melBinCount: frontEnd.configuration.melBinCount, model: model, timings: timings,
                                      precision: configuration.precision, int8FloatLayers: int8FloatLayers)
            info.leadingPadFrameCount = left * output.rowsPerStep
            return info
        }
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
    /// Pass 2 of a prepared file: its steps through the batch encoder, or a causal model's stream.
    func encodeSteps(of prepared: PreparedAudio, sink: (ChunkEmbeddings) throws(VoxEncError) -> Void)
        throws(VoxEncError) -> (mel: Double, encoder: Double, adapter: Double) {
        guard encoderModel.frontEnd.isCausal else {
            return try encodeSteps(of: MelSource(spectrogram: frontEnd, prepared: prepared),
                                   chunkCount: prepared.info.chunkCount, sink: sink)
        }
        let audio: AudioStream
        do { audio = try prepared.reopen() } catch { throw .audio(error) }
        return try encodeCausalRows(read: { () throws(VoxEncError) -> [Float]? in
            do throws(AudioError) { return try audio.next() } catch { throw .audio(error) }
        }, info: prepared.info, sink: sink)
    }

    /// A causal model's rows as ChunkEmbeddings: one per encoder call, each its run of tokens (`index` = the first
    /// token, `chunkCount` = all tokens of the padded sequence).
    func encodeCausalRows<E: Error>(read: () throws(E) -> [Float]?, info: EmbeddingsInfo,
                                    sink: (ChunkEmbeddings) throws(E) -> Void)
        throws(E) -> (mel: Double, encoder: Double, adapter: Double) {
        let output = output(info.kind)
        var token = 0
        return try encodeCausal(kind: info.kind, read: read) { (rows: [Float]) throws(E) in
            let count = rows.count / (output.width * output.rowsPerStep)
            try sink(ChunkEmbeddings(index: token, chunkCount: info.chunkCount, values: rows,
                                     rowCount: count * output.rowsPerStep, dimension: output.width,
                                     startSeconds: Double(token) * output.stepSeconds))
            token += count
        }
    }

    /// A causal model's pass 2: its stream with the audio pushed block by block, then finished. The offline step
    /// is 8 blocks (48 tokens), so each call reads the weights once for 8 blocks; the rows are the same for any step.
    func encodeCausal<E: Error>(kind: EmbeddingKind, read: () throws(E) -> [Float]?, sink: ([Float]) throws(E) -> Void)
        throws(E) -> (mel: Double, encoder: Double, adapter: Double) {
        let start = now()
        let stream: StreamingSession
        do { stream = try StreamingSession(embedder: self, stepMilliseconds: 48 * 80, kind: kind) } catch {
            // Only a non-causal model or a bad step fail here, and neither can reach this call.
            preconditionFailure("a causal model streams: \(error)")
        }
        while let block = try read() {
            do { try stream.push(block) } catch { preconditionFailure("decoded 16 kHz samples are finite: \(error)") }
            let rows = stream.pull()
            if !rows.isEmpty { try sink(rows) }
        }
        let rows: [Float]
        do { rows = try stream.finish() } catch { preconditionFailure("a stream finishes once: \(error)") }
        if !rows.isEmpty { try sink(rows) }
        let total = now() - start
        return (max(0, total - stream.encoderSeconds - stream.adapterSeconds), stream.encoderSeconds,
                stream.adapterSeconds)
    }

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
