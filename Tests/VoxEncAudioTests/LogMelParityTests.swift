// Log-mel parity with WhisperFeatureExtractor (torch path, called as VoxtralProcessor calls it) on every fixture
// signal, 128 and 80 bins. Reference values come from Weights/tools/make_frontend_fixtures.py.

import Foundation
import Testing
import VoxEncAudio
import VoxEncTestSupport

@Suite("Log-mel parity with the reference")
struct LogMelParityTests {
    static let index = try! Fixtures.frontEndIndex()
    static let signalNames = index.signals.map(\.name)

    static func samples(for signal: FrontEndFixtureIndex.Signal) throws -> [Float] {
        if let samples = Signals.make(recipe: signal.recipe) { return samples }
        let path = Fixtures.path(signal.recipe["path"]!.string!)
        return try Waveform(contentsOf: path).samples
    }

    @Test("matches WhisperFeatureExtractor within 1e-4 max, 1e-6 mean", arguments: signalNames)
    func matchesReference(name: String) throws {
        let signal = Self.index.signals.first { $0.name == name }!
        let samples = try Self.samples(for: signal)
        #expect(samples.count == signal.sampleCount)
        let sum = samples.reduce(0.0) { $0 + Double($1) }
        #expect(abs(sum - signal.audioSum) <= FrontEndTolerance.audioSumRelative * max(1, abs(signal.audioSum)),
                "the rebuilt audio differs from the reference's: sum \(sum) vs \(signal.audioSum)")

        for (bins, mel) in signal.mels.sorted(by: { $0.key < $1.key }) {
            let melBins = Int(bins)!
            let ours = LogMelSpectrogram(configuration: FrontEndConfiguration(melBinCount: melBins)).compute(samples)
            #expect(ours.frameCount == mel.frameCount)
            let reference = try Fixtures.numpy("frontend/\(mel.file)")
            #expect(reference.shape == [melBins, mel.frames.count])
            var selected = [Float]()
            selected.reserveCapacity(reference.values.count)
            for m in 0..<melBins { for f in mel.frames { selected.append(ours[m, f]) } }
            let discrepancy = Discrepancy(selected, reference.values)
            #expect(discrepancy.maxAbsolute <= FrontEndTolerance.melMaxAbsolute, "\(name) \(bins): \(discrepancy)")
            #expect(discrepancy.meanAbsolute <= FrontEndTolerance.melMeanAbsolute, "\(name) \(bins): \(discrepancy)")
            let wholeMean = ours.values.reduce(0.0) { $0 + Double($1) } / Double(ours.values.count)
            if ProcessInfo.processInfo.environment["VOXENC_REPORT"] != nil {
                print(String(format: "PARITY mel %@ %@: max|Δ| %.2e mean|Δ| %.2e whole-mean Δ %.2e", name, bins,
                             discrepancy.maxAbsolute, discrepancy.meanAbsolute, abs(wholeMean - mel.mean)))
            }
            #expect(abs(wholeMean - mel.mean) <= FrontEndTolerance.melWholeMean,
                    "\(name) \(bins): whole-audio mean \(wholeMean) vs reference \(mel.mean)")
        }
    }

    @Test("Test A values (docs/numerics.md, Front-end reference values)")
    func specTestA() {
        let mel = LogMelSpectrogram().compute(Signals.testA())
        #expect(mel.frameCount == 3000)
        #expect(abs(mel.maximumLog10 - 1.9414164537) <= FrontEndTolerance.specMaximumLog10)
        let expected: [(Int, Int, Float)] = [(0, 0, 0.907520), (20, 50, 1.287393), (21, 50, -0.514646),
            (20, 99, 1.289480), (20, 100, 1.235694), (20, 101, 0.332894), (20, 102, -0.514646), (127, 2999, -0.514646)]
        for (m, f, value) in expected {
            #expect(abs(Double(mel[m, f] - value)) <= FrontEndTolerance.specTableValue, "A[\(m),\(f)] = \(mel[m, f]), expected \(value)")
        }
        let mean = mel.values.reduce(0.0) { $0 + Double($1) } / Double(mel.values.count)
        #expect(abs(mean - -0.51126855) <= FrontEndTolerance.specMean)
    }

    @Test("Test B values (docs/numerics.md, Front-end reference values: two chunks, boundary crossing)")
    func specTestB() {
        let mel = LogMelSpectrogram().compute(Signals.testB())
        #expect(mel.frameCount == 6000)
        #expect(mel.chunkCount == 2)
        #expect(abs(mel.maximumLog10 - 0.7034668403) <= FrontEndTolerance.specMaximumLog10)
        let expected: [(Int, Int, Float)] = [(0, 0, 0.667683), (40, 1000, -0.275115), (49, 2998, 0.832454),
            (51, 2998, 0.936087), (40, 3001, -0.610177), (100, 4500, -0.102725), (0, 5999, -0.824133)]
        for (m, f, value) in expected {
            #expect(abs(Double(mel[m, f] - value)) <= FrontEndTolerance.specTableValue, "B[\(m),\(f)] = \(mel[m, f]), expected \(value)")
        }
        let mean = mel.values.reduce(0.0) { $0 + Double($1) } / Double(mel.values.count)
        #expect(abs(mean - -0.64894310) <= FrontEndTolerance.specMean)
    }

    @Test("Test C values (docs/numerics.md, Front-end reference values: broadband)")
    func specTestC() {
        let samples = Signals.testC()
        // docs/numerics.md prints 7 significant digits.
        let sample = FrontEndTolerance.specSignalSample
        #expect(abs(samples[0] - 0.03103081) <= sample && abs(samples[1] + 0.03903713) <= sample && abs(samples[2] - 0.03499213) <= sample)
        let mel = LogMelSpectrogram().compute(samples)
        #expect(abs(mel.maximumLog10 - -0.7793699318) <= FrontEndTolerance.specMaximumLog10)
        let expected: [(Int, Int, Float)] = [(0, 0, 0.086145), (0, 1, 0.365357), (1, 1, 0.462921), (50, 100, 0.363466),
            (100, 200, 0.500674), (127, 249, 0.497987), (127, 250, 0.448554), (127, 251, -0.380623), (60, 252, -1.194842)]
        for (m, f, value) in expected {
            #expect(abs(Double(mel[m, f] - value)) <= FrontEndTolerance.specTableValue, "C[\(m),\(f)] = \(mel[m, f]), expected \(value)")
        }
        var sum = 0.0
        for m in 0..<128 { for f in 0..<250 { sum += Double(mel[m, f]) } }
        #expect(abs(sum / Double(128 * 250) - 0.47860161) <= FrontEndTolerance.specMean)
    }

    @Test("a 440 Hz tone peaks in the mel bin whose reference filter weighs FFT bin 11 most", arguments: [128, 80])
    func tonePeaksInTheRightBin(melBins: Int) throws {
        let filters = try Fixtures.numpy("frontend/filters-\(melBins).npy")  // [201, M], the reference's
        let fftBin = 11  // 440 Hz / 40 Hz per bin
        let row = Array(filters.values[(fftBin * melBins)..<((fftBin + 1) * melBins)])
        let expectedBin = row.indices.max { row[$0] < row[$1] }!
        let mel = LogMelSpectrogram(configuration: FrontEndConfiguration(melBinCount: melBins)).compute(Signals.testA())
        let frame = 50
        let column = (0..<melBins).map { mel[$0, frame] }
        let peak = column.indices.max { column[$0] < column[$1] }!
        #expect(peak == expectedBin)
    }

    @Test("chunk k of the whole-audio mel is frames [3000k, 3000k + 3000)")
    func chunksSliceTheWholeMel() {
        let mel = LogMelSpectrogram().compute(Signals.testB())
        let chunks = mel.chunks
        #expect(chunks.count == 2)
        for (k, chunk) in chunks.enumerated() {
            #expect(chunk.index == k && chunk.values.count == 128 * 3000)
            for m in [0, 64, 127] {
                for f in [0, 1, 1500, 2999] { #expect(chunk.values[m * 3000 + f] == mel[m, 3000 * k + f]) }
            }
        }
    }

    @Test("empty audio gives no frames; one sample gives one chunk")
    func edgeLengths() {
        #expect(LogMelSpectrogram().compute([]).frameCount == 0)
        let one = LogMelSpectrogram().compute([0.25])
        #expect(one.frameCount == 3000 && one.values.allSatisfy { $0.isFinite })
    }
}

@Suite("Log-mel chunk by chunk")
struct LogMelChunkedTests {
    @Test("two passes (maximum, then chunk by chunk) equal the whole-audio mel bit for bit")
    func chunkedEqualsWhole() {
        for samples in [Signals.testB(), Signals.speechLike(count: 1_200_000, seed: 33), Signals.testA(), [Float(0.3)]] {
            for bins in [128, 80] {
                let spectrogram = LogMelSpectrogram(configuration: FrontEndConfiguration(melBinCount: bins))
                let whole = spectrogram.compute(samples)
                // The whole signal handed over in one block.
                var handedOver = false
                var chunks: [[Float]] = []
                _ = spectrogram.forEachLog10Chunk(read: { () -> [Float]? in
                    defer { handedOver = true }
                    return handedOver ? nil : samples
                }) { _, values in chunks.append(Array(values)) }
                let maximum = chunks.joined().max() ?? -.infinity
                #expect(maximum == whole.maximumLog10)
                #expect(chunks.count == whole.chunkCount)
                for (index, var values) in chunks.enumerated() {
                    values.withUnsafeMutableBufferPointer { spectrogram.normalise($0, maximumLog10: maximum) }
                    #expect(values == whole.chunk(index).values)
                }
            }
        }
    }
}

@Suite("Log-mel over a stream")
struct LogMelStreamTests {
    @Test("chunk by chunk from blocks of any size equals the whole-audio mel bit for bit",
          arguments: [1, 16000, 479_999, 480_000, 480_001, 959_950, 1_200_000])
    func streamedEqualsWhole(length: Int) {
        let samples = Signals.speechLike(count: length, seed: length)
        let spectrogram = LogMelSpectrogram()
        let whole = spectrogram.compute(samples)
        var position = 0, step = 0
        let sizes = [1, 4097, 100_000, 333, 65_536, 7]
        var chunks: [[Float]] = []
        var maximum: Float = -.infinity
        let count = spectrogram.forEachLog10Chunk(read: { () -> [Float]? in
            guard position < samples.count else { return nil }
            let end = min(samples.count, position + sizes[step % sizes.count])
            step += 1
            defer { position = end }
            return Array(samples[position..<end])
        }) { index, values in
            #expect(index == chunks.count)
            chunks.append(Array(values))
            for v in values { maximum = max(maximum, v) }
        }
        #expect(count == samples.count)
        #expect(maximum == whole.maximumLog10)
        #expect(chunks.count == whole.chunkCount)
        for (index, var values) in chunks.enumerated() {
            values.withUnsafeMutableBufferPointer { spectrogram.normalise($0, maximumLog10: maximum) }
            #expect(values == whole.chunk(index).values, "chunk \(index) of \(length) samples differs")
        }
    }
}
