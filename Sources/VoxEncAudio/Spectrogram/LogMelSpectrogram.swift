// Waveform (16 kHz) → normalised log-mel [M, 3000·N] over the WHOLE zero-padded audio → [M, 3000] chunks.
// Reference: transformers WhisperFeatureExtractor._torch_extract_fbank_features (feature_extraction_whisper.py,
// 5.24) as called by VoxtralProcessor._retrieve_input_features (padding=True, pad_to_multiple_of=480000,
// truncation=False); openai/whisper audio.py log_mel_spectrogram; SPEC.md §1.2–§1.6.
//   pad with zeros to 480000·N → STFT (center, reflect 200, periodic Hann 400, hop 160) → |X|² → drop last frame
//   → mel = Wᵀ·P → log10(max(mel, 1e-10)) → max(x, max_whole_audio − 8) → (x + 4) / 4.
// Letters: M mel bins, F = 3000·N frames, B = 201 frequency bins.
// The power → filterbank → log10 step of each block of 8 frames is C with run-time ISA dispatch
// (CVoxEncKernels voxenc_log10_mel_block: Cephes log10f, the filterbank's multiply-adds fused where the CPU has FMA).

import CVoxEncKernels
import Foundation

/// One vector of 8 frames (a block of the batched FFT).
typealias FloatVector = SIMD8<Float>

/// Computes Voxtral/Whisper log-mel features. Immutable and `Sendable`: share one instance between threads.
public final class LogMelSpectrogram: Sendable {
    public let configuration: FrontEndConfiguration
    public let filterbank: MelFilterbank
    /// Periodic Hann window of length 400, float32 like torch.hann_window(400); frames are windowed in float64.
    let window: [Float]

    public init(configuration: FrontEndConfiguration = .voxtral) {
        self.configuration = configuration
        self.filterbank = MelFilterbank(melBinCount: configuration.melBinCount)
        let n = FrontEndConfiguration.fftLength
        self.window = (0..<n).map { Float(0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(n))) }
        _ = BatchedRealFFT.shared  // plan now, not on the first call
    }

    /// The whole-audio log-mel of `samples` (16 kHz mono): [M, 3000·N] with N = ceil(count / 480000).
    /// Empty input gives zero frames.
    public func compute(_ samples: [Float]) -> MelSpectrogram {
        let chunkCount = configuration.chunkCount(sampleCount: samples.count)
        let frameCount = chunkCount * configuration.framesPerChunk
        let melBins = configuration.melBinCount
        if frameCount == 0 {
            return MelSpectrogram(melBinCount: melBins, frameCount: 0, framesPerChunk: configuration.framesPerChunk,
                                  values: [], maximumLog10: -.infinity)
        }
        var maximum: Float = -.infinity
        // Pass 1 writes log10 mel straight into the [M, F] result; pass 2 applies the whole-audio clamp in place.
        let values = [Float](unsafeUninitializedCapacity: frameCount * melBins) { buffer, initialized in
            samples.withUnsafeBufferPointer { audio in
                maximum = log10Mel(audio: audio, frameCount: frameCount, into: buffer.baseAddress!)
                normalise(buffer.baseAddress!, count: frameCount * melBins, maximum: maximum)
            }
            initialized = frameCount * melBins
        }
        return MelSpectrogram(melBinCount: melBins, frameCount: frameCount, framesPerChunk: configuration.framesPerChunk,
                              values: values, maximumLog10: maximum)
    }

    /// The stage call: samples → independent 30 s chunks [M, 3000] (mel computed over the whole audio first).
    public func chunks(_ samples: [Float]) -> [MelChunk] {
        compute(samples).chunks
    }

    // MARK: - Chunk by chunk over a stream (memory independent of duration)

    /// Computes the log10 mel [M, 3000] (before the clamp) of each chunk in order from a stream of 16 kHz samples,
    /// holding only about one chunk of samples; `read` returns the next block, nil at the end. Calls
    /// `body(index, values)`; returns the number of samples read. Bit-identical to the whole-audio computation.
    public func forEachLog10Chunk<E: Error>(read: () throws(E) -> [Float]?,
                                            _ body: (Int, UnsafeMutableBufferPointer<Float>) throws(E) -> Void) throws(E) -> Int {
        var chunks = Log10Chunks(self)
        var scratch = [Float](repeating: 0, count: configuration.melBinCount * configuration.framesPerChunk)
        while let index = try scratch.withUnsafeMutableBufferPointer({ out throws(E) in
            try chunks.next(read: read, into: out.baseAddress!)
        }) {
            try scratch.withUnsafeMutableBufferPointer { out throws(E) in try body(index, out) }
        }
        return chunks.samplesRead
    }

    /// The chunks of `forEachLog10Chunk`, pulled one at a time: `next(read:into:)` computes the next chunk's log10
    /// mel [M, 3000], reading samples from `read` as it needs them (about one chunk of them is held).
    public struct Log10Chunks {
        let spectrogram: LogMelSpectrogram
        private var buffer: [Float] = [], bufferStart = 0, ended = false
        private var chunk = 0
        /// Samples read so far (all of them once `next` has returned nil).
        public private(set) var samplesRead = 0

        public init(_ spectrogram: LogMelSpectrogram) {
            self.spectrogram = spectrogram
        }

        /// Writes the next chunk's log10 mel [M, 3000] to `output` and returns its index; nil after the last.
        public mutating func next<E: Error>(read: () throws(E) -> [Float]?,
                                            into output: UnsafeMutablePointer<Float>) throws(E) -> Int? {
            let chunkSamples = spectrogram.configuration.samplesPerChunk
            let width = spectrogram.configuration.framesPerChunk
            let reach = FrontEndConfiguration.fftLength / 2 + 1  // a chunk's frames read up to 200 samples past it
            if chunk > 0 {  // drop the samples no later chunk reads
                let keepFrom = max(0, chunk * chunkSamples - FrontEndConfiguration.fftLength / 2)
                if keepFrom > bufferStart {
                    let drop = min(buffer.count, keepFrom - bufferStart)
                    buffer.removeFirst(drop)
                    bufferStart += drop
                }
            }
            let needed = (chunk + 1) * chunkSamples + reach
            while !ended && bufferStart + buffer.count < needed {
                if let block = try read() { buffer += block } else { ended = true }
            }
            let available = bufferStart + buffer.count
            samplesRead = available
            // Not at the end: this chunk is not the last one, its frames read only samples already here, and the
            // audio's end (zero padding, reflection) lies beyond them, as in the whole-audio computation.
            let chunkCount = ended ? spectrogram.configuration.chunkCount(sampleCount: available) : chunk + 2
            if chunk >= chunkCount { return nil }
            let (spectrogram, start, index) = (spectrogram, bufferStart, chunk)
            buffer.withUnsafeBufferPointer { samples in
                let audio = SampleWindow(samples: samples, start: start, totalCount: available)
                _ = spectrogram.log10Mel(audio: audio, frameCount: chunkCount * width,
                                         frames: (index * width)..<((index + 1) * width), rowStride: width,
                                         into: output)
            }
            chunk += 1
            return index
        }
    }

    // MARK: - Frames of a causal stream (fixed clamp)

    /// Normalised log-mel frames `frames` of a padded 16 kHz stream, clamped at the fixed `top`
    /// (VoxtralRealtimeFeatureExtractor: max(log10 mel, top − 8), then (x + 4) / 4), written time-major
    /// [frames.count, M] to `output`. `samples` holds the stream's samples [start, start + samples.count); the
    /// frames may read only those. `totalCount` is the stream's full length once it is known (the last frames reflect
    /// at its end, center=True), or nil while it runs (frames then must not reach past the samples given).
    /// `frames` starts on a multiple of 8. `scratch` holds M · frames.count floats.
    public func fixedClampFrames(samples: UnsafeBufferPointer<Float>, start: Int, totalCount: Int?,
                                 frames: Range<Int>, top: Float, scratch: UnsafeMutablePointer<Float>,
                                 into output: UnsafeMutablePointer<Float>) {
        let hop = FrontEndConfiguration.hopLength
        let available = start + samples.count
        let total = totalCount ?? available
        precondition(totalCount != nil || frames.upperBound * hop + FrontEndConfiguration.fftLength / 2 <= available + hop,
                     "a running stream's frames must not read past its samples")
        let frameCount = totalCount.map { $0 / hop } ?? Int.max / (2 * hop)
        let width = frames.count, melBins = configuration.melBinCount
        _ = log10Mel(audio: SampleWindow(samples: samples, start: start, totalCount: total), frameCount: frameCount,
                     frames: frames, rowStride: width, into: scratch)
        normalise(scratch, count: width * melBins, maximum: top)
        for m in 0..<melBins {
            for f in 0..<width { output[f * melBins + m] = scratch[m * width + f] }
        }
    }

    /// x → (max(x, maximum − 8) + 4) / 4 in place: the clamp and affine, once the whole audio's maximum is known.
    public func normalise(_ values: UnsafeMutableBufferPointer<Float>, maximumLog10 maximum: Float) {
        normalise(values.baseAddress!, count: values.count, maximum: maximum)
    }

    // MARK: - Stages

    /// log10(max(Wᵀ·|X_f|², 1e-10)) for every frame f, written to `output` [M, F]; returns the maximum.
    /// Works on blocks of 8 frames: FFT (FFTW float64, batched, bin-major output) → power [B, 8] → sparse filterbank vectorised
    /// across the 8 frames → log10 (one C call per block) → 8 contiguous values per mel row.
    ///
    /// Frames `frames` (a range starting on a multiple of 8) of the audio's `frameCount` frames are computed; frame f
    /// lands in column f − frames.lowerBound of `output`, whose rows are `rowStride` floats apart.
    func log10Mel(audio: UnsafeBufferPointer<Float>, frameCount: Int, frames: Range<Int>? = nil, rowStride: Int? = nil,
                  into output: UnsafeMutablePointer<Float>) -> Float {
        log10Mel(audio: SampleWindow(samples: audio, start: 0, totalCount: audio.count), frameCount: frameCount,
                 frames: frames, rowStride: rowStride, into: output)
    }

    /// The same over a window of the audio (`SampleWindow`): the frames computed may only read samples inside it.
    func log10Mel(audio: SampleWindow, frameCount: Int, frames: Range<Int>? = nil, rowStride: Int? = nil,
                  into output: UnsafeMutablePointer<Float>) -> Float {
        let frames = frames ?? 0..<frameCount
        let rowStride = rowStride ?? frameCount
        precondition(frames.lowerBound % BatchedRealFFT.batchSize == 0 && frames.upperBound <= frameCount)
        let n = FrontEndConfiguration.fftLength
        let hop = FrontEndConfiguration.hopLength
        let bins = FrontEndConfiguration.frequencyBinCount
        let melBins = configuration.melBinCount
        let batch = BatchedRealFFT.batchSize
        precondition(batch == FloatVector.scalarCount, "one vector of frames per block")
        let paddedCount = frameCount * hop  // L = 480000·N
        let fft = BatchedRealFFT.shared
        let workspace = BatchedRealFFT.Workspace()
        // [B, 8] power and [M, 8] log10 mel of one block: one vector of 8 frames per bin.
        let power = UnsafeMutablePointer<Float>.allocate(capacity: bins * batch)
        let mel = UnsafeMutablePointer<Float>.allocate(capacity: melBins * batch)
        defer { power.deallocate(); mel.deallocate() }
        var melFloor = FrontEndConfiguration.melFloor, silentLog10: Float = 0
        voxenc_log10(&melFloor, &silentLog10, 1)
        var maxima = FloatVector(repeating: -.infinity)
        var maximum: Float = -.infinity

        window.withUnsafeBufferPointer { window in
        filterbank.bandWeights.withUnsafeBufferPointer { weights in
        filterbank.bandOffset.withUnsafeBufferPointer { offsets in
        filterbank.bandStart.withUnsafeBufferPointer { starts in
            var first = frames.lowerBound
            while first < frames.upperBound {
                let count = min(batch, frames.upperBound - first)
                let column = first - frames.lowerBound
                // Frames wholly inside the zero padding (and clear of the reflected right edge) are silent: their
                // mel energy is 0, i.e. the 1e-10 floor. No FFT needed.
                let silent = first * hop - n / 2 >= audio.totalCount && (first + count - 1) * hop + n / 2 <= paddedCount - 1
                if silent {
                    for m in 0..<melBins { (output + m * rowStride + column).initialize(repeating: silentLog10, count: count) }
                    maximum = max(maximum, silentLog10)
                    first += count
                    continue
                }
                for k in 0..<count {
                    fillFrame(first + k, audio: audio, paddedCount: paddedCount, window: window,
                              into: workspace.frames + k * n)
                }
                fft.execute(workspace)
                // |X|² as [bin, frame] in float64, rounded to float32 (torch's power is float32) → sparse
                // filterbank, 8 frames per vector → max(·, 1e-10) → log10, [M, 8].
                voxenc_log10_mel_block(UnsafeRawPointer(workspace.spectra).assumingMemoryBound(to: Double.self), bins,
                                       weights.baseAddress!, offsets.baseAddress!, starts.baseAddress!, melBins,
                                       FrontEndConfiguration.melFloor, power, mel)
                // Eight contiguous values per mel row; the running maximum.
                for m in 0..<melBins {
                    let logged = UnsafeRawPointer(mel + m * batch).loadUnaligned(as: FloatVector.self)
                    let target = output + m * rowStride + column
                    if count == batch {
                        maxima.replace(with: logged, where: logged .> maxima)
                        UnsafeMutableRawPointer(target).storeBytes(of: logged, as: FloatVector.self)
                    } else {
                        for k in 0..<count {
                            maximum = max(maximum, logged[k])
                            target[k] = logged[k]
                        }
                    }
                }
                first += count
            }
        }}}}
        return max(maximum, maxima.max())
    }

    /// In place: x → (max(x, maximum − 8) + 4) / 4, the whole-audio clamp and affine.
    func normalise(_ values: UnsafeMutablePointer<Float>, count: Int, maximum: Float) {
        let lowest = FloatVector(repeating: maximum - FrontEndConfiguration.dynamicRange)
        let lanes = FloatVector.scalarCount
        let vectorCount = count / lanes
        let raw = UnsafeMutableRawPointer(values)
        let size = MemoryLayout<FloatVector>.size
        for i in 0..<vectorCount {
            var x = raw.loadUnaligned(fromByteOffset: i * size, as: FloatVector.self)
            x.replace(with: lowest, where: x .< lowest)
            raw.storeBytes(of: (x + 4) * 0.25, toByteOffset: i * size, as: FloatVector.self)
        }
        for i in (vectorCount * lanes)..<count {
            values[i] = (max(values[i], lowest[0]) + 4) * 0.25
        }
    }

    /// Frame f: padded samples [160f − 200, 160f + 200), reflected at both ends of the padded audio, times the window.
    @inline(__always)
    func fillFrame(_ frame: Int, audio: SampleWindow, paddedCount: Int,
                   window: UnsafeBufferPointer<Float>, into target: UnsafeMutablePointer<Double>) {
        let n = FrontEndConfiguration.fftLength
        let start = frame * FrontEndConfiguration.hopLength - n / 2
        if start >= 0 && start + n <= audio.totalCount {
            let source = audio.pointer(to: start, count: n)
            for j in 0..<n { target[j] = Double(source[j]) * Double(window[j]) }
            return
        }
        for j in 0..<n {
            var index = start + j
            if index < 0 { index = -index }  // reflect without repeating the edge sample
            else if index >= paddedCount { index = 2 * paddedCount - 2 - index }
            target[j] = Double(audio[index]) * Double(window[j])
        }
    }
}

/// Samples [start, start + samples.count) of an audio of `totalCount` samples (indices past the end read as the
/// zero padding). Frames may only read inside the window.
struct SampleWindow {
    let samples: UnsafeBufferPointer<Float>
    let start: Int
    let totalCount: Int

    @inline(__always)
    subscript(index: Int) -> Float {
        guard index < totalCount else { return 0 }
        precondition(index >= start && index - start < samples.count, "frame reads outside the sample window")
        return samples[index - start]
    }

    @inline(__always)
    func pointer(to index: Int, count: Int) -> UnsafePointer<Float> {
        precondition(index >= start && index + count - start <= samples.count, "frame reads outside the sample window")
        return samples.baseAddress! + (index - start)
    }
}
