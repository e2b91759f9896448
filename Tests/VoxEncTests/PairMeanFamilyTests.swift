// The "adding a model family" recipe, followed for real: a test-only family (PairMeanFamily/, one folder) joins the
// engine with one registry line, and every driver — one call, streamed files, batch jobs, the serving queue, `info`'s
// description — runs it without a change elsewhere. Its values are checked against an obvious float64 oracle over
// the front end's whole-audio mel, never against its own output.

import Foundation
import Testing
@_spi(Engine) import VoxEnc
import VoxEncAudio
import VoxEncModel
import VoxEncTestSupport

@Suite("A new encoder family: one folder plus one registry line")
struct PairMeanFamilyTests {
    static let width = 6, melBins = 80

    /// The one registry line (idempotent: each test may call it).
    static func register() { EncoderFamilies.register(PairMeanFamily.self) }

    /// A model directory of the family with seeded weights.
    static func makeModel(in directory: TemporaryDirectory) throws -> (path: String, weight: [Float], bias: [Float]) {
        let root = directory.file("pair-mean")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let config = ["model_type": "pair_mean_test", "num_mel_bins": melBins, "width": width] as [String: Any]
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: root + "/config.json"))
        let weight = Signals.speechLike(count: width * melBins, seed: 3).map { $0 * 0.5 }
        let bias = Signals.speechLike(count: width, seed: 4)
        try SafeTensorsFileBuilder.write([.f32("proj.weight", [width, melBins], weight), .f32("proj.bias", [width], bias)],
                                         to: root + "/model.safetensors")
        return (root, weight, bias)
    }

    /// row r of each step = W · ½ (mel[:, 2r] + mel[:, 2r+1]) + b, in float64, from the whole-audio mel chunks.
    static func oracle(_ chunks: [MelChunk], weight: [Float], bias: [Float]) -> [Float] {
        var out: [Float] = []
        for chunk in chunks {
            for r in 0..<1500 {
                for o in 0..<width {
                    var sum = Double(bias[o])
                    for b in 0..<melBins {
                        let mean = 0.5 * (Double(chunk.values[b * 3000 + 2 * r]) + Double(chunk.values[b * 3000 + 2 * r + 1]))
                        sum += Double(weight[o * melBins + b]) * mean
                    }
                    out.append(Float(sum))
                }
            }
        }
        return out
    }

    @Test("the registry finds the family; the Embedder takes its geometry and front end from it, and its rows equal the oracle")
    func loadsAndEmbeds() throws {
        Self.register()
        let directory = TemporaryDirectory()
        let model = try Self.makeModel(in: directory)
        #expect(ObjectIdentifier(EncoderFamilies.family(for: model.path)) == ObjectIdentifier(PairMeanFamily.self))
        #expect(ObjectIdentifier(EncoderFamilies.family(for: Fixtures.path("encoder/voxtral-tiny-hf"))) == ObjectIdentifier(WhisperFamily.self))

        let embedder = try Embedder(modelDirectory: model.path, configuration: .init(threadCount: 2))
        #expect(embedder.model.layout == PairMeanFamily.layout && !embedder.hasAdapter && embedder.kind == .encoder)
        #expect(embedder.output == OutputGeometry(width: Self.width, rowsPerStep: 1500, stepSeconds: 30))
        #expect(embedder.frameRate == 50 && embedder.melBinCount == Self.melBins)

        let file = Fixtures.path("audio/speech-44k-stereo-37s.flac")  // 2 steps, the second mostly padding
        let embeddings = try embedder.embed(fileAt: file)
        let waveform = try Waveform(contentsOf: file)
        let expected = Self.oracle(embedder.melChunks(samples: waveform.samples), weight: model.weight, bias: model.bias)
        #expect(embeddings.frameCount == 3000 && embeddings.chunkCount == 2 && embeddings.dimension == Self.width)
        #expect(embeddings.validFrameCount == Int((waveform.durationSeconds * 50).rounded(.up)))
        try #require(embeddings.values.count == expected.count)
        let discrepancy = Discrepancy(embeddings.values, expected)
        let scale = Double(expected.map(abs).max() ?? 1)
        // float32 sums of 80 products against float64: a few ulps of the largest value.
        #expect(discrepancy.maxAbsolute <= KernelTolerance.pairMeanRelativeToMaximum * max(1, scale), "\(discrepancy)")
    }

    @Test("the one batch loop serves it too: a batch job packing three files' steps equals each file alone, bit for bit; so does the serving queue")
    func batchesAndQueue() async throws {
        Self.register()
        let directory = TemporaryDirectory()
        let model = try Self.makeModel(in: directory)
        let files = ["speech-16k.wav", "speech-22k-stereo.flac", "speech-44k-stereo-37s.flac"].map { Fixtures.path("audio/\($0)") }
        let items = files.enumerated().map { JobItem(id: "f\($0.offset)", input: $0.element, output: directory.file("out/f\($0.offset).npy")) }
        let packed = try Embedder(modelDirectory: model.path, configuration: .init(threadCount: 2, chunksPerBatch: 3))
        let summary = EmbeddingJob(embedder: packed, items: items).run { _ in }
        #expect(summary.embedded == files.count && summary.failed == 0)

        let alone = try Embedder(modelDirectory: model.path, configuration: .init(threadCount: 1, chunksPerBatch: 1))
        let queue = EmbeddingQueue(embedder: packed, capacity: 4)
        defer { queue.shutdown() }
        for item in items {
            let expected = try alone.embed(fileAt: item.input)
            let written = try NumpyArray(contentsOf: item.output)
            try #require(written.values.count == expected.values.count, "\(item.id)")
            #expect(written.values == expected.values, "\(item.id): \(Discrepancy(written.values, expected.values))")
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: item.input)))
            let served = try await queue.embed(bytes: bytes, name: item.id)
            #expect(served.values == expected.values, "\(item.id) through the queue")
        }
    }

    @Test("`voxenc info`'s description comes from the family: geometry and size, no weights kept")
    func describes() throws {
        Self.register()
        let directory = TemporaryDirectory()
        let model = try Self.makeModel(in: directory)
        let summary = try ModelSummary.read(directory: model.path, threads: 1)
        #expect(summary.family == PairMeanFamily.name)
        #expect(summary.encoderOutput.rowsPerSecond == 50 && summary.adapterOutput == nil)
        #expect(summary.floatBytes == 4 * (Self.width * Self.melBins + Self.width))
    }
}
