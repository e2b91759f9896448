// voxenc bench: chunk throughput of the whole pipeline on random weights of a real shape (or --model DIR), with the
// machine's sgemm rate on the same GEMM shapes measured in the same run. See docs/performance.md.

import ArgumentParser
import Foundation
import VoxEnc
import VoxEncBenchmarking

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure chunks per second, per-stage time and GFLOP/s against the same-run sgemm rate.",
        discussion: "Every float32 GEMM backend's sgemm rate is measured, whatever --gemm says.")

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
    @OptionGroup var engine: EngineOptions
    @Flag(help: "One JSON object per configuration, one per line.")
    var json = false

    func validate() throws {
        if model == nil && ModelPreset(rawValue: preset) == nil { throw ValidationError("unknown preset \(preset)") }
        if chunks < 1 { throw ValidationError("--chunks must be ≥ 1") }
        if threadList.isEmpty || batchList.isEmpty { throw ValidationError("--threads and --chunks-per-batch take positive integers") }
    }

    var threadList: [Int] {
        guard let threads else { return Array(1...MachineSummary.onlineCores) }
        return threads.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
    }
    var batchList: [Int] { chunksPerBatch.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 } }

    func run() throws {
        do {
            for line in MachineSummary.warnings(float32: engine.gemm) { FileHandleStderr.write("voxenc: \(line)\n") }
            let options = EncoderBenchmark.Options(floatGEMM: engine.gemm, preset: ModelPreset(rawValue: preset), modelDirectory: model,
                                                   threads: threadList, chunksPerBatch: batchList, chunks: chunks,
                                                   precision: engine.precision, int8FloatLayers: engine.int8FloatLayers)
            _ = try EncoderBenchmark.run(options) { result in
                print(json ? result.json : result.report)
            }
        } catch {
            throw report(error)
        }
    }
}
