// voxenc bench: chunk throughput of the whole pipeline on random weights of a real shape (or --model DIR), with the
// machine's sgemm rate on the same GEMM shapes measured in the same run. See docs/performance.md.

import ArgumentParser
import Foundation
import VoxEnc

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure chunks per second, per-stage time and GFLOP/s against the same-run sgemm rate.")

    @Option(help: "Random weights of a real shape: \(ModelPreset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var preset: String = "voxtral-mini"
    @Option(help: "Benchmark a model directory instead of a preset.")
    var model: String?
    @Option(help: "Comma-separated thread counts to sweep (default: 1 … cores).")
    var threads: String?
    @Option(name: .customLong("chunks-per-batch"), help: "Comma-separated batch sizes to sweep (default: 2, as `voxenc embed`).")
    var chunksPerBatch: String = "2"
    @Option(help: "30 s chunks to time per configuration (after one warm-up batch).")
    var chunks: Int = 2
    @Option(help: "f32, bf16 or int8 (the large GEMMs; docs/precision.md).")
    var precision: String = "f32"
    @Option(name: .customLong("float-layers"), help: "With --precision int8: the first N encoder layers stay float32 (default 1).")
    var floatLayers: Int?
    @Option(help: "float32 GEMM backend: openblas, onednn or onednn-matmul (default: chosen for this CPU). Every backend's rate is measured either way.")
    var gemm: String?
    @Flag(help: "One JSON object per configuration, one per line.")
    var json = false

    func validate() throws {
        if model == nil && ModelPreset(rawValue: preset) == nil { throw ValidationError("unknown preset \(preset)") }
        if chunks < 1 { throw ValidationError("--chunks must be ≥ 1") }
        if Precision(rawValue: precision) == nil { throw ValidationError("--precision must be f32, bf16 or int8, not \(precision)") }
        try FloatGEMM.validate(option: gemm)
        if threadList.isEmpty || batchList.isEmpty { throw ValidationError("--threads and --chunks-per-batch take positive integers") }
        if let floatLayers {
            if floatLayers < 0 { throw ValidationError("--float-layers must be ≥ 0") }
            if Precision(rawValue: precision) != .int8 { throw ValidationError("--float-layers goes with --precision int8") }
        }
    }

    var threadList: [Int] {
        guard let threads else { return Array(1...SystemInfo.onlineCores) }
        return threads.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
    }
    var batchList: [Int] { chunksPerBatch.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 } }

    func run() throws {
        do {
            let floatGEMM = gemm.flatMap(FloatGEMM.init(rawValue:))
            for line in GEMMRouting.warnings(float32: floatGEMM) { FileHandleStderr.write("voxenc: \(line)\n") }
            let options = EncoderBenchmark.Options(floatGEMM: floatGEMM, preset: ModelPreset(rawValue: preset), modelDirectory: model,
                                                   threads: threadList, chunksPerBatch: batchList, chunks: chunks,
                                                   precision: Precision(rawValue: precision)!,
                                                   int8FloatLayers: floatLayers ?? PrecisionPolicy.defaultFloatLayers)
            _ = try EncoderBenchmark.run(options) { result in
                print(json ? result.json : result.report)
            }
        } catch {
            throw report(error)
        }
    }
}
