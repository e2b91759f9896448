// Voxtral Realtime (the causal family) against transformers 5.25 (Tests/Fixtures/realtime, made by
// Weights/tools/make_realtime_fixtures.py): offline embeddings of each layout, and streams cut anywhere equal to the
// offline output bit for bit.

import Foundation
import Testing
@_spi(Engine) import VoxEnc
import VoxEncAudio
@testable import VoxEncModel
import VoxEncTestSupport

@Suite("Voxtral Realtime")
struct RealtimeTests {
    static let tinyHF = Fixtures.path("realtime/realtime-tiny-hf")
    static let tinyMistral = Fixtures.path("realtime/realtime-tiny-mistral")
    static let window = Fixtures.path("realtime/realtime-window-hf")

    static func reference() throws -> SafeTensors {
        try SafeTensors(contentsOf: Fixtures.path("realtime/reference-realtime.safetensors"))
    }

    /// The fixture script's signals (Weights/tools/signals.py), checked against the stored head and sum.
    static func signal(_ name: String, reference: SafeTensors) throws -> [Float] {
        let samples: [Float]
        switch name {
        case "in0p7s": samples = Signals.tones(count: 11213)
        case "in2p5s": samples = Signals.speechLike(count: 40001, seed: 25)
        case "in10s":
            let (a, b) = (Signals.speechLike(count: 160_000, seed: 100), Signals.tones(count: 160_000))
            samples = zip(a, b).map { Float(Double($0) + 0.5 * Double($1)) }
        case "in6s": samples = Signals.speechLike(count: 96017, seed: 66)
        default: preconditionFailure(name)
        }
        #expect(Array(samples.prefix(8)) == (try reference.floats("\(name).audio_head")), "\(name): regenerated signal")
        return samples
    }

    /// Error relative to the reference's largest magnitude: transformers differs from itself by up to 1.4e-5 of it
    /// between chunkings (streamed vs offline, README), so a bar on the absolute error of one value would test noise.
    static func expectClose(_ actual: [Float], _ expected: [Float], _ label: String,
                            bound: Tolerance = RealtimeTolerance.relativeToMaximum) {
        #expect(actual.count == expected.count, "\(label): \(actual.count) values, reference has \(expected.count)")
        guard actual.count == expected.count else { return }
        let d = Discrepancy(actual, expected)
        let scale = Double(expected.map { abs($0) }.max() ?? 1)
        #expect(d.maxAbsolute <= bound * scale, "\(label): \(d) (|ref| max \(scale))")
        if bound.name == RealtimeTolerance.relativeToMaximum.name {
            #expect(d.relativeL2 <= RealtimeTolerance.relativeL2, "\(label): relative L2 \(d.relativeL2): \(d)")
        }
        if ProcessInfo.processInfo.environment["VOXENC_REPORT"] != nil {
            print(String(format: "PARITY %@: max|Δ|/max|ref| %.2e relL2 %.2e", label, d.maxAbsolute / scale, d.relativeL2))
        }
    }

    @Test("offline: encoder rows and adapter rows of the padded sequence equal transformers' (both windows, odd lengths)",
          arguments: [("in0p7s", tinyHF), ("in2p5s", tinyHF), ("in10s", tinyHF), ("in6s", window)])
    func offline(_ input: String, _ model: String) throws {
        let reference = try Self.reference()
        let samples = try Self.signal(input, reference: reference)
        for kind in [EmbeddingKind.encoder, .adapter] {
            let embedder = try Embedder(modelDirectory: model, configuration: .init(threadCount: 2, kind: kind))
            let embeddings = try embedder.embed(samples: samples, sampleRate: 16_000)
            let expected = try reference.floats("\(input).\(kind == .adapter ? "adapter" : "encoder")")
            Self.expectClose(embeddings.values, expected, "\(input) \(kind)")
            let tokens = Int(try reference.floats("\(input).samples")[0]) / 1280
            let rowsPerToken = kind == .adapter ? 1 : 4
            #expect(embeddings.frameCount == tokens * rowsPerToken)
            #expect(embeddings.info.leadingPadFrameCount == 32 * rowsPerToken)
            #expect(embeddings.validFrameCount == (samples.count + 1279) / 1280 * rowsPerToken)
            #expect(embeddings.frameRate == (kind == .adapter ? 12.5 : 50))
        }
    }

    @Test("the Mistral layout (interleaved q/k rows, other names) gives the Hugging Face layout's rows bit for bit")
    func mistralLayout() throws {
        let reference = try Self.reference()
        let samples = try Self.signal("in0p7s", reference: reference)
        let hf = try Embedder(modelDirectory: Self.tinyHF, configuration: .init(threadCount: 1))
        let mistral = try Embedder(modelDirectory: Self.tinyMistral, configuration: .init(threadCount: 1))
        #expect(mistral.model.layout == .mistralRealtime && hf.model.layout == .huggingFaceRealtime)
        let a = try hf.embed(samples: samples, sampleRate: 16_000).values
        let b = try mistral.embed(samples: samples, sampleRate: 16_000).values
        #expect(a == b, "\(Discrepancy(b, a))")
        Self.expectClose(b, try reference.floats("in0p7s.adapter"), "mistral in0p7s adapter")
    }

    /// A copy of a fixture model with a tekken.json whose "audio" object is `audio` (JSON text).
    static func withTekken(_ model: String, audio: String) throws -> TemporaryDirectory {
        let directory = TemporaryDirectory()
        for name in try FileManager.default.contentsOfDirectory(atPath: model) {
            try FileManager.default.copyItem(atPath: model + "/" + name, toPath: directory.file(name))
        }
        try Data(#"{"config": {}, "vocab": [], "audio": \#(audio)}"#.utf8).write(to: URL(fileURLWithPath: directory.file("tekken.json")))
        return directory
    }

    @Test("tekken.json's audio object sets the pads, as mistral-common reads it: left streaming_n_left_pad_tokens, right transcription_delay_ms / 80 + 1 + 10 tokens; both layouts; streams still equal offline",
          arguments: [tinyHF, tinyMistral])
    func tekkenPadding(_ model: String) throws {
        let copy = try Self.withTekken(model, audio: #"{"sampling_rate": 16000, "frame_rate": 12.5, "transcription_delay_ms": 240, "streaming_n_left_pad_tokens": 16}"#)
        let samples = Signals.speechLike(count: 12_801, seed: 7)  // 10 tokens and one sample: 11 audio tokens
        for kind in [EmbeddingKind.encoder, .adapter] {
            let embedder = try Embedder(modelDirectory: copy.path, configuration: .init(threadCount: 1, kind: kind))
            let embeddings = try embedder.embed(samples: samples, sampleRate: 16_000)
            let rowsPerToken = kind == .adapter ? 1 : 4
            #expect(embeddings.info.leadingPadFrameCount == 16 * rowsPerToken, "\(model) \(kind): left pad")
            #expect(embeddings.validFrameCount == 11 * rowsPerToken, "\(model) \(kind): audio rows")
            #expect(embeddings.frameCount == (16 + 11 + 240 / 80 + 1 + 10) * rowsPerToken, "\(model) \(kind): all rows")
            let stream = try StreamingSession(embedder: embedder)
            try stream.push(samples)
            let streamed = stream.pull() + (try stream.finish())
            #expect(streamed == embeddings.values, "\(model) \(kind): \(Discrepancy(streamed, embeddings.values))")
            // The silent left pad's rows do not depend on its length (causal), so the first 16 match the 32-token
            // default's; the audio's rows do (absolute positions).
            let standard = try Embedder(modelDirectory: model, configuration: .init(threadCount: 1, kind: kind))
                .embed(samples: samples, sampleRate: 16_000)
            let width = embeddings.values.count / embeddings.frameCount
            #expect(Array(embeddings.values.prefix(16 * rowsPerToken * width))
                    == Array(standard.values.prefix(16 * rowsPerToken * width)), "\(model) \(kind): silent rows")
            #expect(standard.info.leadingPadFrameCount == 32 * rowsPerToken)
        }
    }

    @Test("a tekken.json with another frame rate or a delay of part of a token is refused, naming the file and the key",
          arguments: [(#"{"frame_rate": 25}"#, "frame_rate"), (#"{"transcription_delay_ms": 100}"#, "transcription_delay_ms"),
                      (#"{"streaming_n_left_pad_tokens": -1}"#, "streaming_n_left_pad_tokens")])
    func tekkenRefused(_ audio: String, _ key: String) throws {
        let copy = try Self.withTekken(Self.tinyMistral, audio: audio)
        do {
            _ = try Embedder(modelDirectory: copy.path)
            Issue.record("\(audio) accepted")
        } catch {
            #expect("\(error)".contains("tekken.json") && "\(error)".contains(key), "\(error)")
        }
    }

    @Test("the committed speech sample through the CLI path's decoder equals transformers' adapter rows")
    func speechFile() throws {
        let reference = try Self.reference()
        let embedder = try Embedder(modelDirectory: Self.tinyHF, configuration: .init(threadCount: 2))
        let embeddings = try embedder.embed(fileAt: Fixtures.path("audio/speech-16k.wav"))
        Self.expectClose(embeddings.values, try reference.floats("speech.adapter"), "speech adapter")
    }

    @Test("streamed in random pieces = offline, bit for bit, for steps of 80 ms to 1.92 s and 1 or 2 threads",
          arguments: [(80, 1), (160, 2), (480, 2), (480, 1), (1920, 2)])
    func streamedEqualsOffline(_ step: Int, _ threads: Int) throws {
        let reference = try Self.reference()
        for (input, model) in [("in2p5s", Self.tinyHF), ("in6s", Self.window)] {
            let samples = try Self.signal(input, reference: reference)
            let embedder = try Embedder(modelDirectory: model, configuration: .init(threadCount: threads))
            let offline = try embedder.embed(samples: samples, sampleRate: 16_000).values
            let stream = try StreamingSession(embedder: embedder, stepMilliseconds: step)
            var generator = SeededGenerator(seed: UInt64(step * 10 + threads))
            var streamed: [Float] = [], position = 0, pulls = 0
            while position < samples.count {
                let size = min(samples.count - position, Int(generator.next() % 7000) + 1)
                try stream.push(Array(samples[position..<(position + size)]))
                position += size
                let rows = stream.pull()
                if !rows.isEmpty { pulls += 1 }
                streamed += rows
            }
            streamed += try stream.finish()
            #expect(streamed.count == offline.count)
            #expect(streamed == offline, "\(input) step \(step) ms, \(threads) thread(s): \(Discrepancy(streamed, offline))")
            #expect(pulls > 1, "rows came out while the audio was arriving")
        }
    }

    @Test("rows come out as soon as final: after a push, every token that ends 40 samples before the audio does is out")
    func latency() throws {
        let embedder = try Embedder(modelDirectory: Self.tinyHF, configuration: .init(threadCount: 1))
        let stream = try StreamingSession(embedder: embedder, stepMilliseconds: 80)
        try stream.push([Float](repeating: 0.01, count: 1280 + 39))
        #expect(stream.pull().count == (32) * embedder.dimension, "the left pad's 32 rows; token 0 needs 40 more samples")
        try stream.push([Float](repeating: 0.01, count: 1))
        #expect(stream.pull().count == embedder.dimension, "token 0 is final 40 samples after its end")
    }

    @Test("bad input gets typed errors: a non-causal model, NaN, a changed rate, a finished stream, a bad step")
    func badInput() throws {
        let whisper = try Embedder(modelDirectory: Fixtures.path("encoder/voxtral-tiny-hf"))
        #expect(throws: VoxEncError.self) { _ = try StreamingSession(embedder: whisper) }
        let embedder = try Embedder(modelDirectory: Self.tinyHF, configuration: .init(threadCount: 1))
        #expect(throws: VoxEncError.self) { _ = try StreamingSession(embedder: embedder, stepMilliseconds: 100) }
        let stream = try StreamingSession(embedder: embedder)
        do {
            try stream.push([0, .nan])
            Issue.record("NaN accepted")
        } catch { #expect(error.description.contains("sample 1")) }
        try stream.push([Float](repeating: 0, count: 100), sampleRate: 16_000)
        do {
            try stream.push([0], sampleRate: 8_000)
            Issue.record("rate change accepted")
        } catch { #expect(error.description.contains("changed")) }
        _ = try stream.finish()
        do {
            try stream.push([0])
            Issue.record("push after finish accepted")
        } catch { #expect(error.description.contains("finished")) }
    }

    @Test("a 44.1 kHz stream is resampled as it comes and matches the same audio embedded at 44.1 kHz offline")
    func resampledStream() throws {
        let embedder = try Embedder(modelDirectory: Self.tinyHF, configuration: .init(threadCount: 2))
        let samples = Signals.speechLike(count: 44_100 * 2 + 17, seed: 5)
        let offline = try embedder.embed(samples: samples, sampleRate: 44_100).values
        let stream = try StreamingSession(embedder: embedder)
        var streamed: [Float] = []
        for start in stride(from: 0, to: samples.count, by: 3001) {
            try stream.push(Array(samples[start..<min(samples.count, start + 3001)]), sampleRate: 44_100)
            streamed += stream.pull()
        }
        streamed += try stream.finish()
        #expect(streamed.count == offline.count)
        let d = Discrepancy(streamed, offline)
        #expect(d.maxAbsolute <= RealtimeTolerance.streamedResampledMaxAbsolute, "\(d)")
    }
}

/// Streams equal offline on every arithmetic route the code can take here; a route this build or CPU lacks is a
/// skipped test that says why. On each route, streams at every offset (blocks after the shared prefix starting 0 to
/// 5 tokens later than offline's, so that each position sits at another row of its block's GEMM calls) give the
/// offline rows too.
@Suite("Voxtral Realtime routes")
struct RealtimeRouteTests {
    static func streamEqualsOffline(_ configuration: EmbedderConfiguration, seed: UInt64) throws {
        let samples = Signals.speechLike(count: 40_001, seed: 25)
        let embedder = try Embedder(modelDirectory: RealtimeTests.window, configuration: configuration)
        let offline = try embedder.embed(samples: samples, sampleRate: 16_000).values
        for (step, offset) in [(160, 0), (160, 1), (480, 2), (480, 3), (480, 4), (480, 5)] {
            let stream = try StreamingSession(embedder: embedder, stepMilliseconds: step, offsetTokens: offset)
            var generator = SeededGenerator(seed: seed + UInt64(offset))
            var streamed: [Float] = [], position = 0
            while position < samples.count {
                let size = min(samples.count - position, Int(generator.next() % 5000) + 1)
                try stream.push(Array(samples[position..<(position + size)]))
                position += size
                streamed += stream.pull()
            }
            streamed += try stream.finish()
            #expect(streamed == offline, "\(configuration.precision) \(String(describing: configuration.floatGEMM)), step \(step) ms, offset \(offset): \(Discrepancy(streamed, offline))")
        }
        try offsetsCheckTellsTheTruth(embedder)
    }

    /// RealtimeModel.takesOffsets (a check of the GEMMs on shifted blocks) agrees with the whole model: streams forced
    /// to each offset, past the check, give offset 0's rows bit for bit exactly when it says they would. So a route
    /// whose rows move (OpenBLAS sgemm on some CPUs) is found, and one that keeps them is not refused for nothing.
    static func offsetsCheckTellsTheTruth(_ embedder: Embedder) throws {
        let model = try #require(embedder.encoderModel as? RealtimeModel)
        let c = model.configuration
        let tokens = c.leftPadTokens + 25
        let silent = (c.globalLogMelMax - 8 + 4) / 4
        let speech = Signals.speechLike(count: 25 * 8 * c.melBinCount, seed: 11).map { $0 * 10 }
        let mel = [Float](repeating: silent, count: c.leftPadTokens * 8 * c.melBinCount) + speech
        func rows(offset: Int) -> [Float] {
            let stream = RealtimeStreamState(model: model, kind: .adapter, threads: embedder.configuration.threadCount,
                                             prefix: model.prefix(threads: 2), offset: offset)
            var out: [Float] = []
            mel.withUnsafeBufferPointer { stream.append(mel: $0.baseAddress!, tokens: tokens) }
            _ = stream.encodePending(upTo: nil) { out += $0 }
            return out
        }
        let reference = rows(offset: 0)
        let same = (1..<model.runTokens).map { rows(offset: $0) == reference }
        let route = "\(embedder.configuration.precision) \(String(describing: embedder.configuration.floatGEMM))"
        #expect(model.takesOffsets == same.allSatisfy { $0 }, "\(route): takesOffsets \(model.takesOffsets), offsets 1–5 same bits: \(same)")
        if ProcessInfo.processInfo.environment["VOXENC_REPORT"] != nil {
            print("OFFSETS \(route): streams \(model.takesOffsets ? "take" : "do not take") offsets")
        }
    }

    @Test("float32 on OpenBLAS sgemm")
    func openBLAS() throws { try Self.streamEqualsOffline(.init(threadCount: 2, floatGEMM: .openBLAS), seed: 1) }

    @Test("float32 on oneDNN dnnl_sgemm", .enabled(if: FloatGEMM.oneDNN.isAvailable, "this build has no oneDNN"))
    func oneDNN() throws { try Self.streamEqualsOffline(.init(threadCount: 2, floatGEMM: .oneDNN), seed: 2) }

    @Test("float32 on oneDNN matmul with packed panels", .enabled(if: FloatGEMM.oneDNNMatmul.isAvailable, "this build has no oneDNN"))
    func packed() throws { try Self.streamEqualsOffline(.init(threadCount: 2, floatGEMM: .oneDNNMatmul), seed: 3) }

    @Test("bf16 (first layer float32), 1 and 2 threads",
          .enabled(if: Precision.bfloat16.isSupported, "bf16 needs oneDNN and native bf16 (AVX512-BF16 or AMX) on this CPU"))
    func bfloat16() throws {
        try Self.streamEqualsOffline(.init(threadCount: 2, precision: .bfloat16), seed: 4)
        try Self.streamEqualsOffline(.init(threadCount: 1, precision: .bfloat16), seed: 5)
    }

    @Test("bf16 stays near transformers' float32 rows (the offline model's fidelity rule)",
          .enabled(if: Precision.bfloat16.isSupported, "bf16 needs oneDNN and native bf16 (AVX512-BF16 or AMX) on this CPU"))
    func bfloat16Fidelity() throws {
        let reference = try RealtimeTests.reference()
        let samples = try RealtimeTests.signal("in10s", reference: reference)
        let embedder = try Embedder(modelDirectory: RealtimeTests.tinyHF,
                                    configuration: .init(threadCount: 2, precision: .bfloat16))
        let values = try embedder.embed(samples: samples, sampleRate: 16_000).values
        let d = Discrepancy(values, try reference.floats("in10s.adapter"))
        #expect(d.relativeL2 <= RealtimeTolerance.bfloat16RelativeL2, "\(d)")
        if ProcessInfo.processInfo.environment["VOXENC_REPORT"] != nil {
            print(String(format: "PARITY bf16 in10s adapter relL2 %.2e", d.relativeL2))
        }
    }

    @Test("int8 is refused for this family with a typed error naming it",
          .enabled(if: Precision.int8.isSupported, "int8 cannot run here at all (no oneDNN or an old CPU)"))
    func int8Refused() throws {
        do {
            _ = try Embedder(modelDirectory: RealtimeTests.tinyHF, configuration: .init(precision: .int8))
            Issue.record("int8 loaded")
        } catch {
            #expect(error.description.contains("voxtral-realtime"), "\(error)")
        }
    }
}

/// The shared silent prefix (RealtimeModel.prefix) is a cache: a stream started from it gives the rows of a stream
/// computed from position 0, bit for bit, and the front end's silent frames are the value the prefix was made from.
@Suite("Voxtral Realtime shared prefix")
struct RealtimePrefixTests {
    @Test("a stream from the shared prefix = a stream from position 0, both kinds, bit for bit (window 20 and 750)",
          arguments: [RealtimeTests.window, RealtimeTests.tinyHF])
    func prefixIsACache(_ directory: String) throws {
        let model = try #require(try EncoderFamilies.load(directory: directory, policy: .float32()) as? RealtimeModel)
        let c = model.configuration
        #expect(model.silentBlocks == 5, "32 silent tokens: blocks 0–4 (120 positions) see only the left pad")
        let tokens = c.leftPadTokens + 25
        let silent = (c.globalLogMelMax - 8 + 4) / 4
        let speech = Signals.speechLike(count: 25 * 8 * c.melBinCount, seed: 9).map { $0 * 10 }
        let mel = [Float](repeating: silent, count: c.leftPadTokens * 8 * c.melBinCount) + speech
        for kind in [EmbeddingKind.adapter, .encoder] {
            func rows(_ stream: any CausalEncoderStream) -> [Float] {
                var out: [Float] = []
                mel.withUnsafeBufferPointer { stream.append(mel: $0.baseAddress!, tokens: tokens) }
                _ = stream.encodePending(upTo: nil) { out += $0 }
                return out
            }
            let shared = rows(model.makeStream(kind: kind, threads: 2, offset: 0))
            let fresh = rows(RealtimeStreamState(model: model, kind: kind, threads: 2, prefix: nil))
            #expect(shared.count == tokens * model.output(kind).valuesPerStep)
            #expect(shared == fresh, "\(kind): \(Discrepancy(shared, fresh))")
        }
        // The front end's frames of silence (zeros, in the left pad) are exactly the value the prefix used.
        let spectrogram = LogMelSpectrogram(configuration: FrontEndConfiguration(melBinCount: c.melBinCount, framesPerChunk: 8))
        let zeros = [Float](repeating: 0, count: 1280 * 4)
        var scratch = [Float](repeating: 0, count: 8 * c.melBinCount), frames = scratch
        zeros.withUnsafeBufferPointer { z in
            spectrogram.fixedClampFrames(samples: z, start: 0, totalCount: nil, frames: 8..<16, top: c.globalLogMelMax,
                                         scratch: &scratch, into: &frames)
        }
        #expect(frames.allSatisfy { $0 == silent }, "silent frames: \(Set(frames))")
    }
}

/// Streams that share encoder runs (StreamingSession.encode, StreamBatcher) get the rows each gets alone, bit for bit:
/// a run's kernel calls serve blocks of several streams, never mixing their arithmetic.
@Suite("Voxtral Realtime streams sharing runs")
struct RealtimeSharedRunTests {
    /// Three streams of one model: other audio, other steps, one of encoder rows; each with its offline rows.
    static func streams(_ embedder: Embedder) throws -> [(StreamingSession, samples: [Float], offline: [Float])] {
        let encoderOnly = try Embedder(modelDirectory: RealtimeTests.window,
                                       configuration: .init(threadCount: 2, kind: .encoder))
        let inputs: [(Int, EmbeddingKind, [Float])] = [
            (480, .adapter, Signals.speechLike(count: 40_001, seed: 25)),
            (160, .adapter, Signals.tones(count: 52_345)),
            (480, .encoder, Signals.speechLike(count: 30_011, seed: 7)),
        ]
        return try inputs.map { step, kind, samples in
            let offline = try (kind == .encoder ? encoderOnly : embedder).embed(samples: samples, sampleRate: 16_000).values
            return (try StreamingSession(embedder: embedder, stepMilliseconds: step, kind: kind), samples, offline)
        }
    }

    @Test("StreamingSession.encode over three streams in random pieces = each stream's offline rows, bit for bit")
    func encodeTogether() throws {
        let embedder = try Embedder(modelDirectory: RealtimeTests.window, configuration: .init(threadCount: 2))
        let streams = try Self.streams(embedder)
        var generator = SeededGenerator(seed: 41)
        var positions = [Int](repeating: 0, count: streams.count)
        var outputs = [[Float]](repeating: [], count: streams.count)
        var shared = 0
        while zip(positions, streams).contains(where: { $0 < $1.samples.count }) {
            var due: [(StreamingSession, StreamingSession.EncodeScope)] = []
            for (i, (stream, samples, _)) in streams.enumerated() where positions[i] < samples.count {
                let size = min(samples.count - positions[i], Int(generator.next() % 6000) + 1)
                try stream.appendAudio(Array(samples[positions[i]..<(positions[i] + size)]))
                positions[i] += size
                if stream.hasPending(.wholeSteps) { due.append((stream, generator.next() % 5 == 0 ? .everything : .wholeSteps)) }
            }
            if due.count > 1 { shared += 1 }
            StreamingSession.encode(due)
            for (i, (stream, _, _)) in streams.enumerated() { outputs[i] += stream.pull() }
        }
        for (stream, _, _) in streams { try stream.endAudio() }
        StreamingSession.encode(streams.map { ($0.0, .everything) })
        #expect(shared > 3, "runs shared by several streams: \(shared)")
        for (i, (stream, _, offline)) in streams.enumerated() {
            outputs[i] += stream.pull()
            #expect(outputs[i] == offline, "stream \(i) (\(stream.kind), step \(stream.stepTokens * 80) ms): \(Discrepancy(outputs[i], offline))")
        }
    }

    @Test("a StreamBatcher places a new stream's steps half a step from a running stream's, and its rows stay offline's",
          .enabled(if: FloatGEMM.oneDNNMatmul.isAvailable, "this build has no oneDNN (the packed route, whose rows keep their bits when moved)"))
    func placement() async throws {
        let embedder = try Embedder(modelDirectory: RealtimeTests.window,
                                    configuration: .init(threadCount: 2, floatGEMM: .oneDNNMatmul))
        let model = try #require(embedder.encoderModel as? RealtimeModel)
        if !model.takesOffsets { try Test.cancel("the packed route moves rows' bits on this CPU: streams take no offsets") }
        /// The first boundary past the left pad of a stream at `offset` whose audio began at `start`: where its
        /// pushes first bring out a row of audio.
        func firstBoundary(offset: Int, start: Date) throws -> Date {
            let stream = try StreamingSession(embedder: embedder, offsetTokens: offset)
            #expect(stream.offsetTokens == offset)
            var samples = 0
            while stream.rowsPulled <= stream.leadingPadRows {
                try stream.push([Float](repeating: 0.01, count: 40))
                samples += 40
                _ = stream.pull()
            }
            return start.addingTimeInterval(Double(samples) / 16_000)
        }
        func distance(_ a: Date, _ b: Date) -> Double {
            let apart = a.timeIntervalSince(b).truncatingRemainder(dividingBy: 0.48)
            return min(abs(apart), 0.48 - abs(apart))
        }
        // Distances between steps, in seconds (what the scheduling must achieve, not numerical tolerances): apart is
        // half a 480 ms step less the 40 ms a boundary can sit off its 80 ms grid; a timing try is trusted within 10 ms.
        let apartAtLeast = 0.2, timingWithin = 0.01
        #expect(StreamBatcher().offset(for: embedder, stepMilliseconds: 480, audioSeconds: 0.08) == 0, "alone: offset 0")

        // Two streams opened together (their first 80 ms arrived at once), before either has run.
        let together = StreamBatcher(), start = Date(timeIntervalSinceNow: -0.08)
        let first = together.offset(for: embedder, stepMilliseconds: 480, audioSeconds: 0.08)
        let second = together.offset(for: embedder, stepMilliseconds: 480, audioSeconds: 0.08)
        let apart = distance(try firstBoundary(offset: first, start: start), try firstBoundary(offset: second, start: start))
        #expect(apart >= apartAtLeast, "offsets \(first) and \(second): steps \(apart) s apart")

        // Stream A reaches a step boundary (the batcher notes it when A asks for its run); B opens then, its audio
        // begun audioSeconds ago. A busy machine can hold the call back before the batcher notes the time: such a
        // try, longer than 10 ms, says nothing about where A's boundary was, and is made again.
        for audioSeconds in [0.02, 0.08, 0.13, 0.31] {
            var measured = false
            for _ in 0..<20 where !measured {
                let batcher = StreamBatcher()
                let a = try StreamingSession(embedder: embedder)
                try a.appendAudio(Signals.speechLike(count: 6 * 1280, seed: 3))
                #expect(a.hasPending(.wholeSteps))
                let before = Date()
                await batcher.encode(a, .wholeSteps)
                let boundaryA = Date()
                guard boundaryA.timeIntervalSince(before) < timingWithin else { continue }
                measured = true
                let startB = Date(timeIntervalSinceNow: -audioSeconds)
                let offset = batcher.offset(for: embedder, stepMilliseconds: 480, audioSeconds: audioSeconds)
                let d = distance(try firstBoundary(offset: offset, start: startB), boundaryA)
                #expect(d >= apartAtLeast, "audio \(audioSeconds) s: offset \(offset) puts B's steps \(d) s from A's")
            }
            #expect(measured, "A's run never came back within 10 ms in 20 tries: its boundary's time is unknown")
        }
    }

    @Test("three concurrent streams through one StreamBatcher = each stream's offline rows, bit for bit")
    func batcher() async throws {
        let embedder = try Embedder(modelDirectory: RealtimeTests.window, configuration: .init(threadCount: 2))
        let streams = try Self.streams(embedder)
        let batcher = StreamBatcher(gatherSeconds: 0.05)  // long enough that the three streams meet
        let outputs = try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
            for (i, (stream, samples, _)) in streams.enumerated() {
                let stream = UncheckedSendable(stream)
                group.addTask {
                    let stream = stream.value
                    #expect(batcher.admit(limit: 3))
                    defer { batcher.leave() }
                    var generator = SeededGenerator(seed: UInt64(50 + i))
                    var out: [Float] = [], position = 0
                    while position < samples.count {
                        let size = min(samples.count - position, Int(generator.next() % 6000) + 1)
                        try stream.appendAudio(Array(samples[position..<(position + size)]))
                        position += size
                        await batcher.encode(stream, .wholeSteps)
                        out += stream.pull()
                    }
                    try stream.endAudio()
                    await batcher.encode(stream, .everything)
                    return (i, out + stream.pull())
                }
            }
            var outputs = [[Float]](repeating: [], count: streams.count)
            for try await (i, rows) in group { outputs[i] = rows }
            return outputs
        }
        #expect(!batcher.admit(limit: 0), "no place beyond the limit")
        let statistics = batcher.statistics
        #expect(statistics.sharedRuns > 0 && statistics.streams > statistics.runs, "runs served several streams: \(statistics)")
        for (i, (_, _, offline)) in streams.enumerated() {
            #expect(outputs[i] == offline, "stream \(i): \(Discrepancy(outputs[i], offline))")
        }
    }
}
