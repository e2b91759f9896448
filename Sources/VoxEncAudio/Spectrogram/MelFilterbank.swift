// Slaney-scale, Slaney-normalised triangular mel filters on the 201 bins of a 400-point FFT at 16 kHz.
// Reference: transformers audio_utils.mel_filter_bank(num_frequency_bins=201, num_mel_filters=M, min_frequency=0,
// max_frequency=8000, sampling_rate=16000, norm="slaney", mel_scale="slaney") with hertz_to_mel, mel_to_hertz and
// _create_triangular_filter_bank (transformers 5.24); built in float64 and rounded to float32 as the torch path does
// (SPEC.md §1.4). librosa.filters.mel(sr=16000, n_fft=400, n_mels=M) agrees to ≤ 1 float32 ulp.

import Foundation

/// The filterbank, dense for inspection and sparse for speed: each FFT bin feeds at most two filters.
public struct MelFilterbank: Sendable, Equatable {
    public let melBinCount: Int
    /// Dense weights [201, melBinCount], row-major: the reference's layout (`mel_filters`).
    public let weights: [Float]
    /// For each filter, the first FFT bin with a non-zero weight.
    let bandStart: [Int]
    /// For each filter, offsets into `bandWeights` ([bandOffset[m], bandOffset[m + 1])).
    let bandOffset: [Int]
    /// Non-zero weights of all filters, filter after filter.
    let bandWeights: [Float]

    public init(melBinCount: Int) {
        let binCount = FrontEndConfiguration.frequencyBinCount
        let sampleRate = Double(FrontEndConfiguration.sampleRate)
        let maxFrequency = sampleRate / 2
        let melMax = Self.hertzToMel(maxFrequency)

        // numpy.linspace(0, melMax, M + 2): i·step, with the end point exact.
        let edgeCount = melBinCount + 2
        let melStep = melMax / Double(edgeCount - 1)
        var filterFrequencies = (0..<edgeCount).map { Self.melToHertz(Double($0) * melStep) }
        filterFrequencies[edgeCount - 1] = Self.melToHertz(melMax)
        // numpy.linspace(0, 8000, 201) = 40·b exactly.
        let binStep = maxFrequency / Double(binCount - 1)
        let binFrequencies = (0..<binCount).map { Double($0) * binStep }

        var dense = [Float](repeating: 0, count: binCount * melBinCount)
        for mel in 0..<melBinCount {
            let lowerWidth = filterFrequencies[mel + 1] - filterFrequencies[mel]
            let upperWidth = filterFrequencies[mel + 2] - filterFrequencies[mel + 1]
            let areaNormalisation = 2.0 / (filterFrequencies[mel + 2] - filterFrequencies[mel])
            for bin in 0..<binCount {
                let down = -(filterFrequencies[mel] - binFrequencies[bin]) / lowerWidth
                let up = (filterFrequencies[mel + 2] - binFrequencies[bin]) / upperWidth
                let triangle = max(0, min(down, up))
                dense[bin * melBinCount + mel] = Float(triangle * areaNormalisation)
            }
        }

        var starts: [Int] = [], offsets: [Int] = [0], values: [Float] = []
        for mel in 0..<melBinCount {
            let nonZero = (0..<binCount).filter { dense[$0 * melBinCount + mel] != 0 }
            let first = nonZero.first ?? 0
            let last = nonZero.last ?? -1
            starts.append(first)
            if last >= first {
                for bin in first...last { values.append(dense[bin * melBinCount + mel]) }
            }
            offsets.append(values.count)
        }
        self.melBinCount = melBinCount
        self.weights = dense
        self.bandStart = starts
        self.bandOffset = offsets
        self.bandWeights = values
    }

    /// Weight of FFT bin `bin` in filter `mel`.
    public func weight(bin: Int, mel: Int) -> Float { weights[bin * melBinCount + mel] }

    /// Number of stored non-zero weights (for cost models).
    public var nonZeroCount: Int { bandWeights.count }

    // MARK: - Slaney mel scale (transformers audio_utils.hertz_to_mel / mel_to_hertz, mel_scale="slaney")

    static let minLogHertz = 1000.0
    static let minLogMel = 15.0
    static let logStep = 27.0 / Foundation.log(6.4)

    public static func hertzToMel(_ frequency: Double) -> Double {
        if frequency >= minLogHertz { return minLogMel + Foundation.log(frequency / minLogHertz) * logStep }
        return 3.0 * frequency / 200.0
    }

    public static func melToHertz(_ mel: Double) -> Double {
        if mel >= minLogMel { return minLogHertz * Foundation.exp(Foundation.log(6.4) / 27.0 * (mel - minLogMel)) }
        return 200.0 * mel / 3.0
    }
}
