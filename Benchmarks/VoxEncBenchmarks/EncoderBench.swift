// voxenc-bench encoder: the same benchmark as `voxenc bench` (VoxEnc/Benchmarking/EncoderBenchmark.swift).
//   swift build -c release && .build/release/voxenc-bench encoder --preset voxtral-mini --threads 1,2 --json

import ArgumentParser
import Foundation
@_spi(Engine) import VoxEnc
import VoxEncAudio
import VoxEncBenchmarking
import VoxEncModel

struct EncoderBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encoder",
        abstract: "Pipeline throughput on random weights of a preset shape, against the same-run sgemm rate.")

    @Option(help: "\(ModelPreset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var preset: String = "voxtral-mini"
    @Option(help: "Comma-separated OpenBLAS thread counts to sweep.")
    var threads: String = "1,2"
    @Option(name: .customLong("chunks-per-batch"), help: "Comma-separated batch sizes to sweep (default: 2, as `voxenc embed`).")
    var chunksPerBatch: String = "2"
    @Option(help: "Timed chunks per configuration (after one warm-up batch).")
    var chunks: Int = 1
    @Option(help: "The arithmetic of the large GEMMs (docs/precision.md).")
    var precision: Precision = .float32
    @Flag(help: "Print one JSON object per configuration.")
    var json = false

    func validate() throws {
        guard ModelPreset(rawValue: preset) != nil else {
            throw ValidationError("unknown preset \(preset); one of \(ModelPreset.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let options = EncoderBenchmark.Options(
            preset: ModelPreset(rawValue: preset), threads: threads.split(separator: ",").compactMap { Int($0) },
            chunksPerBatch: chunksPerBatch.split(separator: ",").compactMap { Int($0) }, chunks: chunks,
            precision: precision)
        _ = try EncoderBenchmark.run(options) { print(json ? $0.json : $0.report) }
    }
}

// voxenc's EngineOptions lives in the voxenc executable, which this one cannot import: the parser lists the values.
extension Precision: ExpressibleByArgument {}
