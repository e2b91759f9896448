// voxenc-bench files: the Swift library's per-file rate, the baseline of the bindings' overhead
// (Benchmarks/bindings/overhead.py runs it beside the Python package and the CLI, in one run).
//   voxenc-bench files --model DIR [--threads 2] [--repeats 5] [--json] FILE...

import ArgumentParser
import Foundation
@_spi(Engine) import VoxEnc
import VoxEncAudio
import VoxEncBenchmarking
import VoxEncModel

struct FilesBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "files",
        abstract: "Seconds per file of Embedder.embed(fileAt:) with the model loaded once (median of the repeats).")

    @Option(help: "Model directory.") var model: String
    @Option(help: "Threads per call.") var threads: Int = 2
    @Option(help: "Timed passes over the files (after one warm-up pass).") var repeats: Int = 5
    @Flag(help: "Print one JSON object.") var json = false
    @Argument(help: "Audio files.") var files: [String]

    func run() throws {
        let embedder = try Embedder(modelDirectory: model, configuration: EmbedderConfiguration(threadCount: threads))
        for file in files { _ = try embedder.embed(fileAt: file) }  // warm-up: pages, workspaces, primitives
        var passes: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            for file in files { _ = try embedder.embed(fileAt: file) }
            passes.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(files.count))
        }
        let median = passes.sorted()[passes.count / 2]
        if json {
            let object: [String: Any] = ["seconds_per_file": median, "passes": passes, "files": files.count,
                                         "threads": threads, "model": model]
            print(String(data: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), encoding: .utf8)!)
        } else {
            print(String(format: "%.4f s per file (median of %d passes over %d files, %d threads)", median, repeats,
                         files.count, threads))
        }
    }
}
