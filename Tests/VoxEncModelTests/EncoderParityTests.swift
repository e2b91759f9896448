// The encoder and adapter against transformers (float32, eager), stage by stage, on the fixtures that
// Weights/tools/make_encoder_fixtures.py made: a random Voxtral (HF bf16 sharded, and Mistral layout) and a random
// Whisper. Reference activations are never produced by voxenc.

import Foundation
import Testing
@_spi(Engine) @testable import VoxEnc
import VoxEncAudio
@testable import VoxEncModel
import VoxEncTestSupport

@Suite("Encoder and adapter parity with transformers")
struct EncoderParityTests {
    static let voxtralHF = Fixtures.path("encoder/voxtral-tiny-hf")
    static let voxtralMistral = Fixtures.path("encoder/voxtral-tiny-mistral")
    static let whisperHF = Fixtures.path("encoder/whisper-tiny-hf")

    static func reference(_ file: String) throws -> SafeTensors {
        try SafeTensors(contentsOf: Fixtures.path("encoder/\(file)"))
    }

    /// The fixture's audio signals, rebuilt (speech_like in Weights/tools/signals.py).
    static func audio(_ name: String) -> [Float] {
        switch name {
        case "in1s": return Signals.speechLike(count: 16000, seed: 11)
        case "in30s": return Signals.speechLike(count: 480_000, seed: 22)
        default: return Signals.speechLike(count: 1_200_000, seed: 33)
        }
    }

    static func expectClose(_ actual: [Float], _ expected: [Float], relativeL2: Tolerance, maxAbsolute: Tolerance? = nil,
                            _ label: String) {
        #expect(actual.count == expected.count, "\(label): \(actual.count) values, reference has \(expected.count)")
        guard actual.count == expected.count else { return }
        let d = Discrepancy(actual, expected)
        #expect(d.relativeL2 <= relativeL2, "\(label): \(d)")
        if let maxAbsolute { #expect(d.maxAbsolute <= maxAbsolute, "\(label): \(d)") }
        if ProcessInfo.processInfo.environment["VOXENC_REPORT"] != nil {
            print(String(format: "PARITY %@: relL2 %.2e max|Δ| %.2e", label, d.relativeL2, d.maxAbsolute))
        }
    }

    @Test("Voxtral (HF layout, bf16, sharded): conv stem, each layer, encoder, adapter on the reference mel")
    func voxtralStages() throws {
        let model = try ModelLoader.load(directory: Self.voxtralHF)
        let reference = try Self.reference("reference-voxtral-in1s.safetensors")
        let mel = try reference.floats("in1s.mel")
        let encoder = AudioEncoder(weights: model.encoder)
        let workspace = EncoderWorkspace(configuration: model.encoder.configuration)
        var states = [Float](repeating: .nan, count: 1500 * model.encoder.configuration.modelDimension)
        var stages: [String: [Float]] = [:]
        mel.withUnsafeBufferPointer { mel in
            states.withUnsafeMutableBufferPointer { out in
                encoder.encode(mel: mel.baseAddress!, chunkCount: 1, workspace: workspace, into: out.baseAddress!) { stage, values in
                    switch stage {
                    case .convolutionStem: stages["conv"] = Array(values)
                    case .layer(let i): stages["layer\(i)"] = Array(values)
                    }
                }
            }
        }
        for stage in ["conv", "layer0", "layer1"] {
            Self.expectClose(stages[stage] ?? [], try reference.floats("in1s.\(stage)"),
                             relativeL2: EncoderTolerance.stageRelativeL2, maxAbsolute: EncoderTolerance.stageMaxAbsolute,
                             "voxtral in1s \(stage)")
        }
        Self.expectClose(states, try reference.floats("in1s.encoder"), relativeL2: EncoderTolerance.stageRelativeL2,
                         maxAbsolute: EncoderTolerance.stageMaxAbsolute, "voxtral in1s encoder")
        let embedder = try Embedder(model: model)
        let adapted = embedder.adapt(states)!
        Self.expectClose(adapted, try reference.floats("in1s.adapter"), relativeL2: EncoderTolerance.stageRelativeL2,
                         maxAbsolute: EncoderTolerance.stageMaxAbsolute, "voxtral in1s adapter")
    }

    @Test("Voxtral audio → embeddings matches get_audio_features (1 s, 30 s, 75 s = 3 chunks), HF and Mistral layouts",
          arguments: ["in1s", "in30s", "in75s"], [voxtralHF, voxtralMistral])
    func voxtralEndToEnd(input: String, directory: String) throws {
        let embedder = try Embedder(modelDirectory: directory)
        let samples = Self.audio(input)
        let reference = try Self.reference("reference-voxtral-\(input).safetensors")
        let sum = samples.reduce(0.0) { $0 + Double($1) }
        #expect(abs(Float(sum) - (try reference.floats("\(input).audio_sum"))[0]) <= FrontEndTolerance.audioSumFloat32,
                "audio differs from the reference's")
        let embeddings = try embedder.embed(samples: samples, sampleRate: 16000)
        let expected = try reference.floats("\(input).adapter")
        #expect(embeddings.kind == .adapter && embeddings.frameRate == 12.5)
        #expect(embeddings.frameCount == expected.count / 96 && embeddings.dimension == 96)
        #expect(embeddings.chunkCount == embeddings.frameCount / 375)
        let seconds = Double(samples.count) / 16000
        #expect(embeddings.validFrameCount == Int((seconds * 12.5).rounded(.up)))
        Self.expectClose(embeddings.values, expected, relativeL2: EncoderTolerance.endToEndRelativeL2,
                         "voxtral \(input) \(directory.hasSuffix("mistral") ? "mistral" : "hf") end to end")
        if input != "in75s" {
            let encoderOnly = try Embedder(modelDirectory: directory, configuration: .init(kind: .encoder))
                .embed(samples: samples, sampleRate: 16000)
            #expect(encoderOnly.kind == .encoder && encoderOnly.frameRate == 50 && encoderOnly.frameCount == 1500)
            Self.expectClose(encoderOnly.values, try reference.floats("\(input).encoder"),
                             relativeL2: EncoderTolerance.endToEndRelativeL2, "voxtral \(input) encoder end to end")
        }
    }

    @Test("Whisper (HF layout): encoder on the reference mel, and audio → encoder states")
    func whisper() throws {
        let model = try ModelLoader.load(directory: Self.whisperHF)
        #expect(model.adapter == nil)
        let reference = try Self.reference("reference-whisper.safetensors")
        let embedder = try Embedder(model: model)
        #expect(embedder.kind == .encoder)
        let mel = try reference.floats("in1s.mel")
        let states = embedder.encode([MelChunk(index: 0, melBinCount: 80, values: mel)])
        Self.expectClose(states, try reference.floats("in1s.encoder"), relativeL2: EncoderTolerance.stageRelativeL2,
                         maxAbsolute: EncoderTolerance.stageMaxAbsolute, "whisper in1s encoder")
        for input in ["in1s", "in30s"] {
            let embeddings = try embedder.embed(samples: Self.audio(input), sampleRate: 16000)
            #expect(embeddings.frameCount == 1500 && embeddings.dimension == 64 && embeddings.melBinCount == 80)
            Self.expectClose(embeddings.values, try reference.floats("\(input).encoder"),
                             relativeL2: EncoderTolerance.endToEndRelativeL2, "whisper \(input) end to end")
        }
    }
}

@Suite("Encoder properties")
struct EncoderPropertyTests {
    @Test("a chunk encoded alone at 1 thread is bit-identical to the same chunk inside a batch of three at 2 threads, every float32 backend",
          arguments: floatGEMMs)
    func batchIndependence(backend: FloatGEMM) throws {
        let route = try RouteCoverage.require(backend)
        defer { RouteCoverage.ran(route) }
        let embedder = try Embedder(modelDirectory: EncoderParityTests.voxtralHF,
                                    configuration: .init(threadCount: 1, chunksPerBatch: 1, floatGEMM: backend))
        #expect(embedder.floatGEMM == backend)
        let chunks = embedder.melChunks(samples: EncoderParityTests.audio("in75s"))
        #expect(chunks.count == 3)
        let twoThreads = try Embedder(modelDirectory: EncoderParityTests.voxtralHF,
                                      configuration: .init(threadCount: 2, chunksPerBatch: 3, floatGEMM: backend))
        let batch = twoThreads.encode(chunks)
        let perChunk = batch.count / 3
        for (k, chunk) in chunks.enumerated() {
            let alone = embedder.encode([chunk])
            #expect(alone == Array(batch[(k * perChunk)..<((k + 1) * perChunk)]), "chunk \(k) differs inside the batch")
        }
        // And through the facade: batching 3 chunks per GEMM gives the same embeddings as one at a time.
        let batched = try Embedder(modelDirectory: EncoderParityTests.voxtralHF,
                                   configuration: .init(threadCount: 2, chunksPerBatch: 3, floatGEMM: backend))
        let samples = EncoderParityTests.audio("in75s")
        #expect(try batched.embed(samples: samples, sampleRate: 16000).values
            == (try embedder.embed(samples: samples, sampleRate: 16000).values))
    }

    @Test("one model used from 4 threads at once gives identical results")
    func concurrentCallers() async throws {
        let embedder = try Embedder(modelDirectory: EncoderParityTests.voxtralHF)
        let samples = EncoderParityTests.audio("in1s")
        let expected = try embedder.embed(samples: samples, sampleRate: 16000).values
        let results = try await withThrowingTaskGroup(of: [Float].self) { group in
            for _ in 0..<4 {
                group.addTask { try embedder.embed(samples: samples, sampleRate: 16000).values }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 4)
        for result in results { #expect(result == expected) }
    }

    @Test("per-chunk async results equal the whole result; cancellation stops early")
    func chunkStream() async throws {
        let embedder = try Embedder(modelDirectory: EncoderParityTests.voxtralHF)
        let samples = EncoderParityTests.audio("in75s")
        let whole = try embedder.embed(samples: samples, sampleRate: 16000)
        let waveform = try Waveform(samples: samples, sampleRate: 16000)
        var collected: [Float] = []
        var indices: [Int] = []
        for try await chunk in embedder.chunkEmbeddings(of: waveform) {
            indices.append(chunk.index)
            collected += chunk.values
        }
        #expect(indices == [0, 1, 2])
        #expect(collected == whole.values)
        // Not only self-consistent: the streamed rows are the reference's get_audio_features output.
        let reference = try EncoderParityTests.reference("reference-voxtral-in75s.safetensors").floats("in75s.adapter")
        EncoderParityTests.expectClose(collected, reference, relativeL2: EncoderTolerance.endToEndRelativeL2,
                                       "voxtral in75s chunk stream")
        // Cancellation: one chunk per batch (3 batches), break after the first. The producer computes a batch only
        // when asked (ChunkPump), so once its thread has ended exactly one batch was started.
        let oneByOne = try Embedder(modelDirectory: EncoderParityTests.voxtralHF, configuration: .init(chunksPerBatch: 1))
        var seen = 0
        for try await _ in oneByOne.chunkEmbeddings(of: waveform) { seen += 1; break }
        #expect(seen == 1)
        #expect(Self.waitForNoThread(named: "voxenc chunk producer"), "the producer thread never ended")
        #expect(oneByOne.batchesStarted.load(ordering: .relaxed) == 1, "batches computed after the consumer stopped")
    }

    /// Waits (≤ 30 s) until no thread of this process has `name` (Linux truncates names to 15 bytes in
    /// /proc/self/task/*/comm). The producer thread ends after the stream is released; nothing else signals it.
    static func waitForNoThread(named name: String) -> Bool {
        let comm = String(name.utf8.prefix(15))!
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
            let names = tasks.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) }
            if !names.contains(where: { $0.trimmingCharacters(in: .whitespacesAndNewlines) == comm }) { return true }
            usleep(1000)
        }
        return false
    }
}

@Suite("Determinism")
struct DeterminismTests {
    @Test("the same input gives bit-identical outputs, run after run and at 1, 2 or 3 threads, every float32 backend",
          arguments: floatGEMMs)
    func bitIdenticalAcrossRunsAndThreadCounts(backend: FloatGEMM) throws {
        let route = try RouteCoverage.require(backend)
        defer { RouteCoverage.ran(route) }
        let samples = EncoderParityTests.audio("in75s")
        let two = try Embedder(modelDirectory: EncoderParityTests.voxtralHF,
                               configuration: .init(threadCount: 2, floatGEMM: backend))
        let first = try two.embed(samples: samples, sampleRate: 16000).values
        let second = try two.embed(samples: samples, sampleRate: 16000).values
        #expect(first == second)
        // Each GEMM row block, attention head and element-wise row is computed by the same single-threaded code
        // whatever the split (RowBlocks.swift), so the thread count does not change a bit.
        for threads in [1, 3] {
            let other = try Embedder(modelDirectory: EncoderParityTests.voxtralHF,
                                     configuration: .init(threadCount: threads, floatGEMM: backend))
            #expect(try other.embed(samples: samples, sampleRate: 16000).values == first, "\(threads) threads")
        }
    }
}

@Suite("Streamed embedding")
struct StreamedEmbeddingTests {
    @Test("a file embedded in two streaming passes equals the in-memory result bit for bit",
          arguments: [("audio/speech-44k-stereo-37s.flac", EncoderParityTests.voxtralHF),
                      ("audio/speech-16k.wav", EncoderParityTests.whisperHF)])
    func streamedEqualsInMemory(file: String, model: String) throws {
        let embedder = try Embedder(modelDirectory: model, configuration: .init(chunksPerBatch: 2))
        let path = Fixtures.path(file)
        let whole = try embedder.embed(fileAt: path)
        var rows: [Float] = []
        var announced: EmbeddingsInfo?
        let info = try embedder.embedStreaming(fileAt: path, begin: { info, _ in announced = info },
                                               sink: { rows += $0.values })
        #expect(rows == whole.values)
        #expect(announced?.frameCount == whole.frameCount && info.validFrameCount == whole.validFrameCount)
        #expect(info.durationSeconds == whole.durationSeconds && info.chunkCount == whole.chunkCount)
    }
}
