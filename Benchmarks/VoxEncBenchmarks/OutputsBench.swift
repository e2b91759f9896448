// voxenc-bench outputs: what each output costs beside the embedding it writes, measured apart from the noise of whole
// jobs. One embedding of SECONDS of speech-like audio through the model (its time: the work every output shares), then
// that embedding written again and again by the job's own writer: float32 .npy + sidecar files (today's default),
// float16 files, float32 and float16 members of one tar shard (--output-tar), bfloat16 safetensors; the median
// seconds of each, and the share of a file's total time the difference to float32 files adds.
//   voxenc-bench outputs --model DIR [--seconds 30] [--threads 2] [--repeats 30] [--json]

import ArgumentParser
import Foundation
@_spi(Engine) import VoxEnc
import VoxEncAudio
import VoxEncBenchmarking
import VoxEncModel

struct OutputsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outputs",
        abstract: "Seconds per output of each dtype and destination (files, tar shard) against the embedding's own time.")

    @Option(help: "Model directory.") var model: String
    @Option(help: "Seconds of audio per embedding.") var seconds: Double = 30
    @Option(help: "Threads per call.") var threads: Int = 2
    @Option(help: "Outputs written per configuration (and embeddings timed).") var repeats: Int = 30
    @Flag(help: "Print one JSON object.") var json = false

    static let configurations: [(name: String, format: EmbeddingsFormat, dtype: OutputDType, tar: Bool)] = [
        ("float32 files", .npy, .float32, false), ("float16 files", .npy, .float16, false),
        ("float32 tar", .npy, .float32, true), ("float16 tar", .npy, .float16, true),
        ("bfloat16 safetensors", .safetensors, .bfloat16, false),
    ]

    func run() throws {
        let embedder = try Embedder(modelDirectory: model, configuration: EmbedderConfiguration(threadCount: threads))
        let samples: [Float] = (0..<Int(seconds * 16000)).map { (index: Int) -> Float in
            let t = Double(index)
            return Float(0.3 * sin(t * 0.05) + 0.2 * sin(t * 0.0071))
        }
        let waveform = try Waveform(samples: samples, sampleRate: 16000)
        var embeddings = embedder.embed(waveform: waveform)  // warm-up
        var embedSeconds: [Double] = []
        for _ in 0..<max(3, repeats / 5) {
            let start = DispatchTime.now().uptimeNanoseconds
            embeddings = embedder.embed(waveform: waveform)
            embedSeconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let directory = NSTemporaryDirectory() + "voxenc-outputs-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var results: [String: [Double]] = [:]
        // Round after round, every configuration once per round: drift on a shared machine hits them alike.
        var shards: [String: TarShardWriter] = [:]
        for configuration in Self.configurations where configuration.tar {
            shards[configuration.name] = try TarShardWriter(path: "\(directory)/\(configuration.dtype).tar", resume: false,
                                                            overwrite: true)
        }
        for round in 0..<repeats {
            for configuration in Self.configurations {
                let encoding = OutputEncoding(dtype: configuration.dtype)
                let start = DispatchTime.now().uptimeNanoseconds
                let writer: EmbeddingsFile.Writer
                if let shard = shards[configuration.name] {
                    writer = try EmbeddingsFile.Writer(shard: shard, key: "k\(round)", format: configuration.format,
                                                       info: embeddings.info, input: "bench", encoding: encoding)
                } else {
                    writer = try EmbeddingsFile.Writer(path: "\(directory)/\(round)-\(configuration.dtype).\(configuration.format)",
                                                       format: configuration.format, info: embeddings.info, input: "bench",
                                                       encoding: encoding, overwrite: true)
                }
                for chunk in 0..<embeddings.chunkCount {  // as the job appends: chunk by chunk
                    let rows = embeddings.rows(ofChunk: chunk)
                    try embeddings.values.withUnsafeBufferPointer { values throws(OutputError) in
                        try writer.append(UnsafeBufferPointer(rebasing: values[(rows.lowerBound * embeddings.dimension)..<(rows.upperBound * embeddings.dimension)]))
                    }
                }
                _ = try writer.finish()
                results[configuration.name, default: []].append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
        }
        for shard in shards.values { try shard.finish() }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        let embed = median(embedSeconds), baseline = median(results["float32 files"]!)
        var rows: [[String: Any]] = []
        for configuration in Self.configurations {
            let write = median(results[configuration.name]!)
            rows.append(["output": configuration.name, "median_write_seconds": write,
                         "added_share_of_file_time": (write - baseline) / (embed + baseline)])
        }
        if json {
            let object: [String: Any] = ["model": model, "audio_seconds": seconds, "threads": threads, "repeats": repeats,
                                         "rows": embeddings.frameCount, "width": embeddings.dimension,
                                         "median_embed_seconds": embed, "outputs": rows,
                                         "cpu": MachineSummary().cpuBrand]
            print(String(data: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted]), encoding: .utf8)!)
        } else {
            print(String(format: "embedding [%d, %d]: %.4f s (median)", embeddings.frameCount, embeddings.dimension, embed))
            for row in rows {
                print(String(format: "%-22@ %.5f s per output, %+.3f %% of a file's time against float32 files",
                             row["output"] as! String, row["median_write_seconds"] as! Double,
                             100 * (row["added_share_of_file_time"] as! Double)))
            }
        }
    }
}
