// Waveform (16 kHz) → normalised log-mel [M, 3000·N] over the WHOLE zero-padded audio → [M, 3000] chunks.
// Reference: transformers WhisperFeatureExtractor._torch_extract_fbank_features (feature_extraction_whisper.py,
// 5.24) as called by VoxtralProcessor._retrieve_input_features (padding=True, pad_to_multiple_of=480000,
// truncation=False); openai/whisper audio.py log_mel_spectrogram; SPEC.md §1.2–§1.6.
//   pad with zeros to 480000·N → STFT (center, reflect 200, periodic Hann 400, hop 160) → |X|² → drop last frame
//   → mel = Wᵀ·P → log10(max(mel, 1e-10)) → max(x, max_whole_audio − 8) → (x + 4) / 4.
// Letters: M mel bins, F = 3000·N frames, B = 201 frequency bins.

import Foundation

/// Computes Voxtral/Whisper log-mel features. Immutable and `Sendable`: share one instance between threads.
public final class LogMelSpectrogram: Sendable {
    public let configuration: FrontEndConfiguration
    public let filterbank: MelFilterbank
    /// Periodic Hann window of length 400 (torch.hann_window(400)).
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
        let chunkCount = FrontEndConfiguration.chunkCount(sampleCount: samples.count)
        let frameCount = chunkCount * FrontEndConfiguration.chunkFrameCount
        let melBins = configuration.melBinCount
        if frameCount == 0 {
            return MelSpectrogram(melBinCount: melBins, frameCount: 0, values: [], maximumLog10: -.infinity)
        }
        // Frame-major log10 mel [F, M] first; the whole-audio max is known only at the end.
        var logMel = [Float](repeating: 0, count: frameCount * melBins)
        samples.withUnsafeBufferPointer { audio in
            logMel.withUnsafeMutableBufferPointer { output in
                melEnergies(audio: audio, frameCount: frameCount, into: output.baseAddress!)
            }
        }
        let maximum = logMel.withUnsafeMutableBufferPointer { log10InPlace($0) }
        var values = [Float](repeating: 0, count: frameCount * melBins)
        logMel.withUnsafeBufferPointer { source in
            values.withUnsafeMutableBufferPointer { target in
                normaliseTransposing(source.baseAddress!, frameCount: frameCount, melBins: melBins,
                                     maximum: maximum, into: target.baseAddress!)
            }
        }
        return MelSpectrogram(melBinCount: melBins, frameCount: frameCount, values: values, maximumLog10: maximum)
    }

    /// The stage call: samples → independent 30 s chunks [M, 3000] (mel computed over the whole audio first).
    public func chunks(_ samples: [Float]) -> [MelChunk] {
        compute(samples).chunks
    }

    // MARK: - Stages

    /// Mel energies of every frame, frame-major: output[f·M + m] = Σ_b W[b, m]·|X_f[b]|².
    func melEnergies(audio: UnsafeBufferPointer<Float>, frameCount: Int, into output: UnsafeMutablePointer<Float>) {
        let n = FrontEndConfiguration.fftLength
        let hop = FrontEndConfiguration.hopLength
        let bins = FrontEndConfiguration.frequencyBinCount
        let melBins = configuration.melBinCount
        let sampleCount = audio.count
        let paddedCount = frameCount * hop  // L = 480000·N
        let halfWindow = n / 2
        let fft = BatchedRealFFT.shared
        let workspace = BatchedRealFFT.Workspace()
        let batch = BatchedRealFFT.batchSize
        var power = [Float](repeating: 0, count: bins)

        window.withUnsafeBufferPointer { window in
            power.withUnsafeMutableBufferPointer { power in
                var first = 0
                while first < frameCount {
                    let count = min(batch, frameCount - first)
                    // A frame wholly inside the zero padding (and away from the reflected right edge) is silent:
                    // no FFT needed. Its mel energy is 0 and becomes the 1e-10 floor in log10.
                    let firstSilent = first * hop - halfWindow >= sampleCount
                        && (first + count - 1) * hop + halfWindow <= paddedCount - 1
                    if firstSilent {
                        (output + first * melBins).initialize(repeating: 0, count: count * melBins)
                        first += count
                        continue
                    }
                    for k in 0..<count {
                        fillFrame(first + k, audio: audio, paddedCount: paddedCount, window: window,
                                  into: workspace.frames + k * n)
                    }
                    fft.execute(workspace)
                    let spectra = workspace.spectrumFloats
                    for k in 0..<count {
                        let spectrum = spectra + k * bins * 2
                        for b in 0..<bins {
                            let re = spectrum[2 * b], im = spectrum[2 * b + 1]
                            power[b] = re * re + im * im
                        }
                        applyFilterbank(power.baseAddress!, into: output + (first + k) * melBins)
                    }
                    first += count
                }
            }
        }
    }

    /// Frame f: padded samples [160f − 200, 160f + 200), reflected at both ends of the padded audio, times the window.
    @inline(__always)
    func fillFrame(_ frame: Int, audio: UnsafeBufferPointer<Float>, paddedCount: Int,
                   window: UnsafeBufferPointer<Float>, into target: UnsafeMutablePointer<Float>) {
        let n = FrontEndConfiguration.fftLength
        let start = frame * FrontEndConfiguration.hopLength - n / 2
        if start >= 0 && start + n <= audio.count {
            let source = audio.baseAddress! + start
            for j in 0..<n { target[j] = source[j] * window[j] }
            return
        }
        for j in 0..<n {
            var index = start + j
            if index < 0 { index = -index }  // reflect without repeating the edge sample
            else if index >= paddedCount { index = 2 * paddedCount - 2 - index }
            let sample: Float = index < audio.count ? audio[index] : 0
            target[j] = sample * window[j]
        }
    }

    /// Sparse filterbank: each filter reads only its own few FFT bins.
    @inline(__always)
    func applyFilterbank(_ power: UnsafePointer<Float>, into mel: UnsafeMutablePointer<Float>) {
        filterbank.bandWeights.withUnsafeBufferPointer { weights in
            filterbank.bandOffset.withUnsafeBufferPointer { offsets in
                filterbank.bandStart.withUnsafeBufferPointer { starts in
                    for m in 0..<configuration.melBinCount {
                        let start = starts[m]
                        var sum: Float = 0
                        for w in offsets[m]..<offsets[m + 1] {
                            sum += weights[w] * power[start + w - offsets[m]]
                        }
                        mel[m] = sum
                    }
                }
            }
        }
    }

    /// log10(max(x, 1e-10)) in place; returns the maximum.
    func log10InPlace(_ values: UnsafeMutableBufferPointer<Float>) -> Float {
        let width = FloatVector.scalarCount
        let floor = FloatVector(repeating: FrontEndConfiguration.melFloor)
        var maxima = FloatVector(repeating: -.infinity)
        let base = values.baseAddress!
        let vectorCount = values.count / width
        UnsafeMutableRawPointer(base).withMemoryRebound(to: FloatVector.self, capacity: vectorCount) { vectors in
            for i in 0..<vectorCount {
                let logged = log10Positive(pointwiseMax(vectors[i], floor))
                vectors[i] = logged
                maxima = pointwiseMax(maxima, logged)
            }
        }
        var maximum = maxima.max()
        let tailStart = vectorCount * width
        if tailStart < values.count {
            var tail = floor
            for i in tailStart..<values.count { tail[i - tailStart] = max(values[i], FrontEndConfiguration.melFloor) }
            let logged = log10Positive(tail)
            for i in tailStart..<values.count {
                values[i] = logged[i - tailStart]
                maximum = max(maximum, logged[i - tailStart])
            }
        }
        return maximum
    }

    /// [F, M] log10 mel → [M, F] with the whole-audio clamp and affine: (max(x, maximum − 8) + 4) / 4.
    func normaliseTransposing(_ source: UnsafePointer<Float>, frameCount: Int, melBins: Int, maximum: Float,
                              into target: UnsafeMutablePointer<Float>) {
        let lowest = maximum - FrontEndConfiguration.dynamicRange
        let tile = 32
        var frame0 = 0
        while frame0 < frameCount {
            let frameEnd = min(frame0 + tile, frameCount)
            for m in 0..<melBins {
                let row = target + m * frameCount
                for f in frame0..<frameEnd {
                    row[f] = (max(source[f * melBins + m], lowest) + 4) * 0.25
                }
            }
            frame0 = frameEnd
        }
    }
}
