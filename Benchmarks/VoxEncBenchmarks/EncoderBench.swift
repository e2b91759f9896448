// voxenc-bench encoder: seconds per 30 s chunk and GFLOP/s of the encoder (+ adapter) on random weights of a real
// shape, next to the machine's sgemm GFLOP/s on the same GEMM shapes, measured in the same run.
//   swift run -c release voxenc-bench encoder --preset voxtral-mini --threads 1,2 [--chunks 1] [--json]

import ArgumentParser
import Foundation
import VoxEnc

struct EncoderBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encoder",
        abstract: "Encoder + adapter throughput on random weights of a preset shape, against the same-run sgemm rate.")

    @Option(help: "voxtral-mini, voxtral-small, whisper-large-v3, whisper-base, whisper-tiny.")
    var preset: String = "voxtral-mini"
    @Option(help: "Comma-separated OpenBLAS thread counts to sweep.")
    var threads: String = "1,2"
    @Option(help: "Timed chunks per thread count (after one warm-up chunk).")
    var chunks: Int = 1
    @Option(name: .customLong("chunks-per-batch"), help: "Chunks per encoder batch.")
    var chunksPerBatch: Int = 1
    @Flag(help: "Print one JSON object per thread count.")
    var json = false

    func validate() throws {
        guard ModelPreset(rawValue: preset) != nil else {
            throw ValidationError("unknown preset \(preset); one of \(ModelPreset.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let preset = ModelPreset(rawValue: self.preset)!
        let c = preset.encoder
        let encoder = AudioEncoder(weights: RandomWeights.encoder(c))
        let adapter = preset.adapter.map { Adapter(weights: RandomWeights.adapter($0)) }
        let flops = FlopCount.perChunk(encoder: c, adapter: preset.adapter)
        let batch = max(1, chunksPerBatch)
        let mel = (0..<(batch * c.melBinCount * c.melFrameCount)).map { Float(($0 * 7919) % 3001) / 1000 - 1.5 }
        let workspace = EncoderWorkspace(configuration: c, capacity: batch)
        var states = [Float](repeating: 0, count: batch * c.maxPositions * c.modelDimension)
        let rows = batch * c.maxPositions / (preset.adapter?.stackFactor ?? 1)
        var scratch = [Float](repeating: 0, count: rows * (preset.adapter?.outputDimension ?? 1))
        var adapted = scratch

        for threadCount in threads.split(separator: ",").compactMap({ Int($0) }) {
            GEMM.threadCount = threadCount
            func runBatch() -> (Double, Double) {
                let start = Date()
                mel.withUnsafeBufferPointer { mel in
                    states.withUnsafeMutableBufferPointer { states in
                        encoder.encode(mel: mel.baseAddress!, chunkCount: batch, workspace: workspace, into: states.baseAddress!)
                    }
                }
                let middle = Date()
                if let adapter {
                    states.withUnsafeBufferPointer { s in scratch.withUnsafeMutableBufferPointer { scratch in adapted.withUnsafeMutableBufferPointer { out in
                        adapter.apply(encoderStates: s.baseAddress!, frames: batch * c.maxPositions, scratch: scratch.baseAddress!, into: out.baseAddress!)
                    }}}
                }
                return (middle.timeIntervalSince(start), Date().timeIntervalSince(middle))
            }
            _ = runBatch()  // warm-up
            var encoderSeconds = 0.0, adapterSeconds = 0.0
            let batches = max(1, (chunks + batch - 1) / batch)
            for _ in 0..<batches {
                let (e, a) = runBatch()
                encoderSeconds += e
                adapterSeconds += a
            }
            let chunkCount = Double(batches * batch)
            let perChunk = (encoderSeconds + adapterSeconds) / chunkCount
            let gflops = flops / perChunk / 1e9
            let roofline = Roofline.measure(FlopCount.gemms(encoder: c, adapter: preset.adapter))
            let ratio = gflops / roofline
            if json {
                print("{\"benchmark\":\"encoder\",\"preset\":\"\(preset.rawValue)\",\"threads\":\(threadCount),\"chunks_per_batch\":\(batch),"
                    + "\"seconds_per_chunk\":\(perChunk),\"encoder_seconds_per_chunk\":\(encoderSeconds / chunkCount),"
                    + "\"adapter_seconds_per_chunk\":\(adapterSeconds / chunkCount),\"gflop_per_chunk\":\(flops / 1e9),"
                    + "\"gflops\":\(gflops),\"sgemm_gflops\":\(roofline),\"ratio_to_sgemm\":\(ratio)}")
            } else {
                print(String(format: "%@ %d thread(s), batch %d: %.2f s per chunk (encoder %.2f, adapter %.3f), %.0f GFLOP per chunk → %.1f GFLOP/s; sgemm on the same shapes %.1f GFLOP/s; ratio %.3f",
                             preset.rawValue, threadCount, batch, perChunk, encoderSeconds / chunkCount,
                             adapterSeconds / chunkCount, flops / 1e9, gflops, roofline, ratio))
            }
        }
    }
}

/// The machine's sgemm rate on given shapes: each shape timed on packed random matrices, weighted by its count.
enum Roofline {
    static func measure(_ shapes: [GEMMShape], repeats: Int = 3) -> Double {
        var totalFlops = 0.0, totalSeconds = 0.0
        for shape in shapes {
            let a = [Float](repeating: 0.5, count: shape.m * shape.k)
            let b = [Float](repeating: 0.25, count: shape.n * shape.k)
            var c = [Float](repeating: 0, count: shape.m * shape.n)
            var best = Double.infinity
            for _ in 0..<repeats {
                let start = Date()
                a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in c.withUnsafeMutableBufferPointer { c in
                    GEMM.multiplyTransposed(a.baseAddress!, b.baseAddress!, into: c.baseAddress!, m: shape.m, n: shape.n, k: shape.k)
                }}}
                best = min(best, Date().timeIntervalSince(start))
            }
            totalFlops += shape.flops
            totalSeconds += best * Double(shape.count)
        }
        return totalFlops / totalSeconds / 1e9
    }
}
