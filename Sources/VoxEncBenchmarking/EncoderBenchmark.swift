// Chunk-throughput benchmark shared by `voxenc bench` and `voxenc-bench encoder`: the whole pipeline per 30 s chunk
// (decode, resample, mel, conv stem, attention, projections, MLP, norms/activations, adapter) on random weights of a
// real shape (or a model directory), against the machine's sgemm rate on the same GEMM shapes, measured in the
// same run. Never a timed test: run it on a quiet machine and compare ratios side by side.

import Foundation
import VoxEncAudio
@_spi(Engine) import VoxEnc
import VoxEncModel

public struct EncoderBenchmarkResult: Codable, Sendable {
    public var model: String
    /// "f32" or "int8" (the large GEMMs; docs/precision.md).
    public var precision: String
    public var threads: Int
    public var chunksPerBatch: Int
    public var chunks: Int
    public var secondsPerChunk: Double
    public var encoderSecondsPerChunk: Double
    public var chunksPerSecond: Double
    /// Seconds of audio per second of compute (30 s per chunk).
    public var realTimeFactor: Double
    /// Milliseconds per chunk for each stage, in pipeline order.
    public var stageMilliseconds: [String: Double]
    public var stageOrder: [String]
    public var gflopPerChunk: Double
    public var gflops: Double
    /// The float32 GEMM backend the encoder ran ("openblas", "onednn") and its kernel here.
    public var gemmBackend: String
    public var gemmKernel: String
    /// GFLOP/s of the backend in use on the encoder's own GEMM shapes, this thread count: the better of two
    /// measurements made just before and just after this configuration's encoder run.
    public var sgemmGflops: Double
    public var ratioToSgemm: Double
    /// Every float32 backend present, measured the same way in the same run: the machine's roofline is the best.
    public var gemmRates: [String: Double]
    public var bestGemmBackend: String
    public var bestGemmGflops: Double
    /// Encoder + adapter GFLOP/s over the best backend's rate (the float32 roofline, also for int8).
    public var ratioToBestGemm: Double
    /// The CPU's nominal float32 FMA peak at this thread count (CPU.nominalPeakGFLOPS), nil if the clock is unknown.
    public var nominalPeakGflops: Double?
    public var ratioToNominalPeak: Double?
    /// CPU brand, family/model and ISA features (CPU.summary).
    public var cpu: String
    public var peakResidentBytes: Int
}

public enum EncoderBenchmark {
    public struct Options: Sendable {
        public var preset: ModelPreset?
        public var modelDirectory: String?
        public var threads: [Int]
        public var chunksPerBatch: [Int]
        public var chunks: Int
        public var precision: Precision
        /// With int8: encoder layers kept in float32 (EmbedderConfiguration.int8FloatLayers).
        public var int8FloatLayers: Int
        /// The float32 backend to run (nil: GEMMRouting's choice).
        public var floatGEMM: FloatGEMM?
        public init(floatGEMM: FloatGEMM? = nil, preset: ModelPreset? = .voxtralMini, modelDirectory: String? = nil, threads: [Int] = [1, 2],
                    chunksPerBatch: [Int] = [EmbedderConfiguration().chunksPerBatch], chunks: Int = 1, precision: Precision = .float32,
                    int8FloatLayers: Int = PrecisionPolicy.defaultFloatLayers) {
            self.preset = preset
            self.modelDirectory = modelDirectory
            self.threads = threads
            self.chunksPerBatch = chunksPerBatch
            self.chunks = chunks
            self.precision = precision
            self.int8FloatLayers = int8FloatLayers
            self.floatGEMM = floatGEMM
        }
    }

    public static let stageOrder = ["decode", "resample", "mel"] + EncoderProfile.Stage.allCases.map(\.rawValue) + ["adapter"]

    /// Runs every (threads, chunks per batch) pair; `progress` receives each result as it is measured.
    public static func run(_ options: Options, progress: (EncoderBenchmarkResult) -> Void = { _ in }) throws -> [EncoderBenchmarkResult] {
        // The load's one precision check: the policy every kernel below is made with.
        let policy: PrecisionPolicy
        do {
            policy = try PrecisionPolicy(precision: options.precision, floatLayers: options.int8FloatLayers,
                                         gemm: GEMMRouting.resolve(options.floatGEMM).backend)
        } catch {
            throw VoxEncError.precision(error)
        }
        let gemm = policy.gemm
        let encoder: AudioEncoder, adapter: Adapter?, name: String
        if let directory = options.modelDirectory {
            // Read layer by layer, as `voxenc embed` loads it (Embedder(modelDirectory:)): the peak RSS is the engine's.
            let embedder = try Embedder(modelDirectory: directory, configuration: EmbedderConfiguration(
                precision: options.precision, int8FloatLayers: options.int8FloatLayers, floatGEMM: options.floatGEMM))
            guard let whisper = embedder.encoderModel as? WhisperModel else {
                throw UnsupportedFamily(directory: directory)
            }
            (encoder, adapter, name) = (whisper.encoder, whisper.adapter, directory)
        } else {
            let preset = options.preset ?? .voxtralMini
            do {
                // Handed over (consume), so that packing frees each float32 matrix: the peak RSS is the engine's.
                encoder = try AudioEncoder(weights: RandomWeights.encoder(preset.encoder), policy: policy)
                adapter = try preset.adapter.map { configuration throws(PrecisionError) in
                    try Adapter(weights: RandomWeights.adapter(configuration), policy: policy)
                }
            } catch {
                throw VoxEncError.precision(error)
            }
            name = preset.rawValue
        }
        let c = encoder.configuration
        let adapterConfiguration = adapter?.weights.configuration
        let flops = FlopCount.perChunk(encoder: c, adapter: adapterConfiguration)
        let shapes = FlopCount.gemms(encoder: c, adapter: adapterConfiguration)

        // Real audio work for the front-end stages: a 44.1 kHz stereo file of exactly `chunks` × 30 s.
        let audioPath = try makeAudio(seconds: 30 * options.chunks)
        defer { try? FileManager.default.removeItem(atPath: audioPath) }

        var results: [EncoderBenchmarkResult] = []
        // Every float32 route present, and bf16 where the CPU has it: (name, backend, precision).
        var routes: [(String, FloatGEMM, Precision)] = FloatGEMM.allCases.filter(\.isAvailable).map { ($0.rawValue, $0, .float32) }
        if Precision.bfloat16.isSupported { routes.append(("bf16-matmul", .oneDNN, .bfloat16)) }
        for threads in options.threads {
            try Parallel.withThreads(threads) { () throws(any Error) in
            for batch in options.chunksPerBatch {
                // The roofline brackets the encoder run: every backend measured before and after it, the larger kept
                // (a busy neighbour can only slow a measurement down, so the larger is nearer the machine's rate).
                let ratesBefore = routes.map { Roofline.measure(shapes, backend: $0.1, precision: $0.2) }
                let front = try frontEnd(audioPath: audioPath, melBins: c.melBinCount)
                let chunkCount = front.mel.chunkCount
                let workspace = EncoderWorkspace(configuration: c, capacity: batch, threads: threads,
                                                 policy: encoder.policy)
                let adapterQuantisation = adapter?.quantised.map { _ in
                    let shape = adapter!.quantisationShape(frames: batch * c.maxPositions)
                    return QuantisationScratch(rows: shape.rows, inputWidth: shape.inputWidth, outputWidth: shape.outputWidth)
                }
                var states = [Float](repeating: 0, count: batch * c.maxPositions * c.modelDimension)
                let adapterRows = batch * c.maxPositions / (adapterConfiguration?.stackFactor ?? 1)
                var scratch = [Float](repeating: 0, count: adapterRows * (adapterConfiguration?.outputDimension ?? 1))
                var adapted = scratch
                let profile = EncoderProfile()
                var adapterSeconds = 0.0
                func encode(first: Int, count: Int) {
                    let mel = (first..<(first + count)).flatMap { front.mel.chunk($0).values }
                    mel.withUnsafeBufferPointer { mel in states.withUnsafeMutableBufferPointer { states in
                        encoder.encode(mel: mel.baseAddress!, chunkCount: count, workspace: workspace,
                                       into: states.baseAddress!, profile: profile)
                    }}
                    if let adapter {
                        let start = Date()
                        states.withUnsafeBufferPointer { s in scratch.withUnsafeMutableBufferPointer { scratch in
                            adapted.withUnsafeMutableBufferPointer { out in
                                adapter.apply(encoderStates: s.baseAddress!, frames: count * c.maxPositions,
                                              chunkFrames: c.maxPositions,
                                              scratch: scratch.baseAddress!, quantisation: adapterQuantisation,
                                              into: out.baseAddress!)
                            }
                        }}
                        adapterSeconds += Date().timeIntervalSince(start)
                    }
                }
                encode(first: 0, count: min(batch, chunkCount))  // warm-up
                profile.reset()
                adapterSeconds = 0
                var first = 0
                while first < chunkCount {
                    let count = min(batch, chunkCount - first)
                    encode(first: first, count: count)
                    first += count
                }
                var rates: [String: Double] = [:]
                for (route, before) in zip(routes, ratesBefore) {
                    rates[route.0] = max(before, Roofline.measure(shapes, backend: route.1, precision: route.2))
                }
                // The roofline of this precision: bf16 against bf16's rate, float32 and int8 against the best float32.
                let own = options.precision == .bfloat16 ? "bf16-matmul" : gemm.rawValue
                let sgemm = rates[own] ?? 0
                let comparable = rates.filter { options.precision == .bfloat16 ? $0.key == own : $0.key != "bf16-matmul" }
                let best = comparable.max { $0.value < $1.value } ?? (own, sgemm)
                let peak = CPU.current.nominalPeakGFLOPS(threads: threads)
                let n = Double(chunkCount)
                var stages: [String: Double] = [
                    "decode": front.decode / n * 1000, "resample": front.resample / n * 1000, "mel": front.melSeconds / n * 1000,
                    "adapter": adapterSeconds / n * 1000,
                ]
                for stage in EncoderProfile.Stage.allCases { stages[stage.rawValue] = (profile.seconds[stage] ?? 0) / n * 1000 }
                let encoderSeconds = EncoderProfile.Stage.allCases.reduce(0) { $0 + (profile.seconds[$1] ?? 0) } / n
                let perChunk = stages.values.reduce(0, +) / 1000
                let gflops = flops / (encoderSeconds + adapterSeconds / n) / 1e9
                let result = EncoderBenchmarkResult(
                    model: name, precision: options.precision.rawValue, threads: threads, chunksPerBatch: batch, chunks: chunkCount, secondsPerChunk: perChunk,
                    encoderSecondsPerChunk: encoderSeconds, chunksPerSecond: 1 / perChunk, realTimeFactor: 30 / perChunk,
                    stageMilliseconds: stages, stageOrder: stageOrder, gflopPerChunk: flops / 1e9, gflops: gflops,
                    gemmBackend: own, gemmKernel: options.precision == .bfloat16 ? (OneDNN.bfloat16MatmulImplementation ?? "?") : gemm.kernel, sgemmGflops: sgemm, ratioToSgemm: gflops / sgemm,
                    gemmRates: rates, bestGemmBackend: best.key, bestGemmGflops: best.value,
                    ratioToBestGemm: gflops / best.value, nominalPeakGflops: peak,
                    ratioToNominalPeak: peak.map { gflops / $0 }, cpu: CPU.current.summary,
                    peakResidentBytes: peakResidentBytes())
                progress(result)
                results.append(result)
            }
            }
        }
        return results
    }

    struct FrontEnd {
        var decode: Double
        var resample: Double
        var melSeconds: Double
        var mel: MelSpectrogram
    }

    /// Decode alone, then decode + resample, then the mel, all timed.
    static func frontEnd(audioPath: String, melBins: Int) throws -> FrontEnd {
        var start = Date()
        let file = try AudioFile(path: audioPath)
        var buffer = [Float](repeating: 0, count: 65536 * file.info.channelCount)
        while try buffer.withUnsafeMutableBufferPointer({ try file.readFrames(into: $0.baseAddress!, frameCapacity: 65536) }) > 0 {}
        let decode = Date().timeIntervalSince(start)
        start = Date()
        let waveform = try Waveform(contentsOf: audioPath)
        let decodeAndResample = Date().timeIntervalSince(start)
        let spectrogram = LogMelSpectrogram(configuration: FrontEndConfiguration(melBinCount: melBins))
        start = Date()
        let mel = spectrogram.compute(waveform.samples)
        return FrontEnd(decode: decode, resample: max(0, decodeAndResample - decode),
                        melSeconds: Date().timeIntervalSince(start), mel: mel)
    }

    /// A speech-like 44.1 kHz stereo 16-bit WAV of `seconds`, in a temporary file.
    static func makeAudio(seconds: Int) throws -> String {
        let path = NSTemporaryDirectory() + "voxenc-bench-\(getpid()).wav"
        let rate = 44_100, frames = rate * seconds
        var state: UInt32 = 12345
        var y1: Float = 0, y2: Float = 0
        var samples = [Int16](repeating: 0, count: frames * 2)
        for n in 0..<frames {
            state = state &* 1_664_525 &+ 1_013_904_223
            let e = Float(state >> 8) / Float(1 << 24) - 0.5
            let y = e + 1.3 * y1 - 0.6 * y2
            y2 = y1; y1 = y
            let envelope = 1 - abs(Float((n % 11025) - 5512)) / 5512
            let value = Int16(max(-32767, min(32767, 0.2 * y * envelope * 32767)))
            samples[2 * n] = value
            samples[2 * n + 1] = value / 2
        }
        var header = Data("RIFF".utf8)
        func append32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { header.append(contentsOf: $0) } }
        func append16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { header.append(contentsOf: $0) } }
        append32(UInt32(36 + frames * 4)); header.append(contentsOf: Array("WAVEfmt ".utf8))
        append32(16); append16(1); append16(2); append32(UInt32(rate)); append32(UInt32(rate * 4)); append16(4); append16(16)
        header.append(contentsOf: Array("data".utf8)); append32(UInt32(frames * 4))
        samples.withUnsafeBytes { header.append(contentsOf: $0) }
        try header.write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Peak resident set size of this process (getrusage ru_maxrss, kB on Linux).
    public static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }
}

/// A float32 GEMM backend's rate on the encoder's own shapes, issued as the encoder issues them: Linear and conv
/// shapes in RowBlocks over the threads (FloatGEMM.multiplyTransposedInBlocks), attention shapes one head per
/// thread in row blocks of Attention.rowBlock. Each shape timed (best of `repeats`) on packed matrices, weighted by
/// how often one chunk runs it. Run inside the thread budget to measure (Parallel.withThreads).
public enum Roofline {
    /// A route to measure: a float32 backend, or bf16 operands (packed, attention in float32 on `backend`).
    public static func measure(_ shapes: [GEMMShape], backend: FloatGEMM, precision: Precision = .float32,
                               repeats: Int = 3) -> Double {
        func operands(_ backend: FloatGEMM) -> PackedOperands? {
            switch GEMMRouting.linearRoute(precision: precision, gemm: backend) {
            case .packed(let operands): return operands
            case .blas: return nil
            }
        }
        let threads = Parallel.threadCount
        var totalFlops = 0.0, totalSeconds = 0.0
        for shape in shapes {
            let copies = shape.perHead ? threads : 1  // heads run side by side, one per thread
            let a = [Float](repeating: 0.5, count: copies * shape.m * shape.k)
            let b = [Float](repeating: 0.25, count: shape.n * shape.k)
            var c = [Float](repeating: 0, count: copies * shape.m * shape.n)
            // Linear shapes of the packed routes multiply weights packed once, as the encoder does.
            let packed: PackedMatrix? = shape.perHead ? nil : operands(backend).flatMap { operands in
                b.withUnsafeBufferPointer { b in
                    try? PackedMatrix(weight: b.baseAddress!, outputCount: shape.n, inputCount: shape.k, operands: operands)
                }
            }
            var best = Double.infinity
            for _ in 0..<repeats {
                let start = Date()
                a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in c.withUnsafeMutableBufferPointer { c in
                    if shape.perHead {
                        let pointers = UncheckedSendable((a.baseAddress!, b.baseAddress!, c.baseAddress!))
                        Parallel.forEachRange(copies) { range in
                            let (a, b, c) = pointers.value
                            for copy in range {
                                var first = 0
                                while first < shape.m {
                                    let rows = min(Attention.rowBlock, shape.m - first)
                                    backend.multiplyTransposed(a + (copy * shape.m + first) * shape.k, b,
                                                               into: c + (copy * shape.m + first) * shape.n,
                                                               m: rows, n: shape.n, k: shape.k)
                                    first += rows
                                }
                            }
                        }
                    } else if let packed {
                        packed.multiplyInBlocks(a.baseAddress!, blocks: RowBlocks(rows: shape.m, rowsPerChunk: shape.m),
                                                into: c.baseAddress!)
                    } else {
                        backend.multiplyTransposedInBlocks(a.baseAddress!, b.baseAddress!, into: c.baseAddress!,
                                                           blocks: RowBlocks(rows: shape.m, rowsPerChunk: shape.m),
                                                           n: shape.n, k: shape.k)
                    }
                }}}
                best = min(best, Date().timeIntervalSince(start) / Double(copies))
            }
            totalFlops += shape.flops
            totalSeconds += best * Double(shape.count)
        }
        return totalFlops / totalSeconds / 1e9
    }
}

extension EncoderBenchmarkResult {
    /// Human-readable lines: the summary, then each stage's milliseconds per chunk and share.
    public var report: String {
        var lines = [String(format: "%@ · %@ · %d thread(s) · %d chunk(s)/batch · %d chunks: %.2f s per chunk (%.3f chunks/s, %.1f× real time); encoder+adapter %.1f GFLOP/s of %.0f GFLOP; peak RSS %.0f MiB",
                                model, precision, threads, chunksPerBatch, chunks, secondsPerChunk, chunksPerSecond, realTimeFactor,
                                gflops, gflopPerChunk, Double(peakResidentBytes) / 1_048_576)]
        lines.append("    cpu " + cpu)
        let others = gemmRates.sorted { $0.key < $1.key }.map { String(format: "%@ %.1f", $0.key, $0.value) }
            .joined(separator: ", ")
        lines.append(String(format: "    GEMM route %@ (%@): %.1f GFLOP/s on the encoder's shapes, ratio %.3f; best backend %@ %.1f, ratio %.3f; all: %@",
                            gemmBackend, gemmKernel, sgemmGflops, ratioToSgemm, bestGemmBackend, bestGemmGflops,
                            ratioToBestGemm, others))
        if let nominalPeakGflops, let ratioToNominalPeak {
            lines.append(String(format: "    nominal FMA peak %.1f GFLOP/s at the reported clock, ratio %.3f",
                                nominalPeakGflops, ratioToNominalPeak))
        }
        for stage in stageOrder {
            let ms = stageMilliseconds[stage] ?? 0
            let label = stage.padding(toLength: 18, withPad: " ", startingAt: 0)
            lines.append("    " + label + String(format: "%10.1f ms  %5.1f %%", ms, 100 * ms / (secondsPerChunk * 1000)))
        }
        return lines.joined(separator: "\n")
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}

/// `voxenc bench --model` on a model of a family whose stages it cannot profile.
public struct UnsupportedFamily: Error, CustomStringConvertible {
    public let directory: String
    public var description: String { "voxenc bench profiles Whisper-family encoders; \(directory) is another family" }
}
