// Batch jobs: manifests, ids → outputs, the shard hash, completeness checks for --skip-existing, and cross-file
// chunk batching, whose outputs must equal single-file runs bit for bit.

import Foundation
import Testing
@_spi(Engine) @testable import VoxEnc
import VoxEncModel
import VoxEncAudio
import VoxEncTestSupport

@Suite("Batch jobs")
struct BatchJobTests {
    static let voxtral = Fixtures.path("encoder/voxtral-tiny-hf")

    @Test("a manifest: paths, comments, blank lines, CRLF, JSON lines with and without id")
    func manifestLines() throws {
        let text = "# corpus\r\n/data/a.wav\r\n\n  rel/b.flac  \n{\"id\": \"spk1/utt1\", \"path\": \"/x/u1.opus\"}\n{\"path\": \"c.mp3\"}\n"
        let entries = try Manifest.parse(text, path: "m.txt")
        #expect(entries == [
            ManifestEntry(id: "/data/a.wav", path: "/data/a.wav"), ManifestEntry(id: "rel/b.flac", path: "rel/b.flac"),
            ManifestEntry(id: "spk1/utt1", path: "/x/u1.opus"), ManifestEntry(id: "c.mp3", path: "c.mp3"),
        ])
    }

    @Test("manifest errors name the file and the line")
    func manifestErrors() {
        #expect(throws: JobError.manifestLine(path: "m", line: 2, reason: "not a JSON object")) {
            try Manifest.parse("a.wav\n{not json\n", path: "m")
        }
        #expect(throws: JobError.manifestLine(path: "m", line: 1, reason: "the JSON object has no string \"path\"")) {
            try Manifest.parse("{\"id\": \"x\"}", path: "m")
        }
        #expect(throws: JobError.manifestLine(path: "m", line: 1, reason: "\"id\" must be a string")) {
            try Manifest.parse("{\"id\": 3, \"path\": \"a.wav\"}", path: "m")
        }
        #expect(throws: JobError.duplicateID(id: "a.wav", lines: [1, 3])) {
            try Manifest.parse("a.wav\nb.wav\na.wav\n", path: "m")
        }
        #expect(throws: JobError.manifestUnreadable(path: "/nonexistent/m.txt", reason: "no such file")) {
            try Manifest.read(path: "/nonexistent/m.txt")
        }
    }

    @Test("outputs mirror ids under the output directory; .. is refused; collisions are found")
    func mirroredOutputs() throws {
        func output(_ id: String, _ directory: String? = "/out") throws -> String {
            try JobItem.mirrored(id: id, input: "/in/" + id, outputDirectory: directory, format: .npy).output
        }
        #expect(try output("spk1/utt1.flac") == "/out/spk1/utt1.npy")
        #expect(try output("utt.001") == "/out/utt.001.npy")  // not an audio extension: kept
        #expect(try output("/abs/./a.WAV") == "/out/abs/a.npy")
        #expect(try output("a.wav", nil) == "/in/a.npy")
        #expect(JobItem.replacingExtension(of: "rel/dir.v2/b.flac", with: "npy") == "rel/dir.v2/b.npy")
        #expect(JobItem.replacingExtension(of: "rel/dir.v2/noext", with: "npy") == "rel/dir.v2/noext.npy")
        #expect(JobItem.replacingExtension(of: ".hidden", with: "npy") == ".hidden.npy")
        #expect(throws: JobError.unsafeID(id: "../x.wav")) { try output("../x.wav") }
        #expect(throws: JobError.unsafeID(id: "/")) { try output("/") }
        let items = [JobItem(id: "a.wav", input: "a.wav", output: "/out/a.npy"),
                     JobItem(id: "a.flac", input: "a.flac", output: "/out/a.npy")]
        #expect(throws: JobError.outputCollision(output: "/out/a.npy", ids: ["a.wav", "a.flac"])) {
            try JobItem.checkDistinctOutputs(items)
        }
    }

    @Test("the shard hash is 64-bit FNV-1a (published test vectors) and splits ids into disjoint shards")
    func shards() throws {
        // Vectors from the FNV reference (Fowler/Noll/Vo, fnv_test.c).
        #expect(Shard.stableHash("") == 0xcbf2_9ce4_8422_2325)
        #expect(Shard.stableHash("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(Shard.stableHash("foobar") == 0x8594_4171_f739_67e8)
        let ids = (0..<500).map { "spk\($0 % 7)/utt\($0).flac" }
        let shards = try (0..<4).map { try Shard(index: $0, count: 4) }
        for id in ids { #expect(shards.filter { $0.contains(id: id) }.count == 1, "\(id)") }
        let sizes = shards.map { shard in ids.filter { shard.contains(id: $0) }.count }
        #expect(sizes.allSatisfy { $0 > 90 }, "unbalanced: \(sizes)")
        #expect(try Shard(parsing: "3/8") == Shard(index: 3, count: 8))
        #expect(throws: JobError.self) { try Shard(parsing: "8/8") }
        #expect(throws: JobError.self) { try Shard(parsing: "1-4") }
    }

    @Test("shards from Slurm job arrays (any first index and step) and Kubernetes Indexed Jobs")
    func shardsFromSchedulers() throws {
        #expect(try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "4"], count: nil)
                == Shard(index: 2, count: 4))
        #expect(try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "4",
                                           "SLURM_ARRAY_TASK_MIN": "1"], count: nil) == Shard(index: 3, count: 4))
        #expect(try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "20", "SLURM_ARRAY_TASK_COUNT": "4",
                                           "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_STEP": "10"], count: nil)
                == Shard(index: 2, count: 4))
        #expect(try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "5"], count: 8) == Shard(index: 5, count: 8))
        #expect(throws: JobError.self) { try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "5"], count: nil) }
        #expect(throws: JobError.self) { try Shard.fromEnvironment([:], count: 4) }
    }

    @Test("cross-file batching: chunks of several files share batches at 2 threads, each output equals a single-file run at 1 thread bit for bit, every float32 backend",
          arguments: FloatGEMM.allCases)
    func crossFileBatchingIsBitIdentical(backend: FloatGEMM) throws {
        let route = try RouteCoverage.require(backend)  // a backend this build lacks: skipped with the reason
        defer { RouteCoverage.ran(route) }
        let directory = TemporaryDirectory()
        // Lengths around chunk boundaries and rates that need resampling: 1, 2, 3 and 1 chunks.
        let files: [(String, Double, Int)] = [("a", 7.2, 16000), ("b", 31.0, 22050), ("c", 65.3, 16000), ("d", 0.4, 44100),
                                              ("e", 30.0, 16000)]
        var items: [JobItem] = []
        for (index, (name, seconds, rate)) in files.enumerated() {
            let path = directory.file(name + ".wav")
            let samples = Signals.speechLike(count: Int(seconds * Double(rate)), seed: 11 + index)
            try TestAudioWriter.write(samples, channels: 1, sampleRate: rate, format: .wavFloat, to: path)
            items.append(JobItem(id: name, input: path, output: directory.file("out/\(name).npy")))
        }
        let packed = try Embedder(modelDirectory: Self.voxtral,
                                  configuration: .init(threadCount: 2, chunksPerBatch: 3, floatGEMM: backend))
        var results: [JobResult] = []
        let summary = EmbeddingJob(embedder: packed, items: items).run { results.append($0) }
        #expect(summary.embedded == files.count && summary.failed == 0)
        #expect(results.map(\.item.id) == files.map(\.0), "files finish in order")

        let alone = try Embedder(modelDirectory: Self.voxtral,
                                 configuration: .init(threadCount: 1, chunksPerBatch: 1, floatGEMM: backend))
        for item in items {
            let expected = try alone.embed(fileAt: item.input)
            let written = try NumpyArray(contentsOf: item.output)
            #expect(written.shape == [expected.frameCount, expected.dimension])
            #expect(written.values == expected.values, "\(item.id): \(Discrepancy(written.values, expected.values))")
        }
    }

    @Test("a failing file in the middle is reported with its error; the others are written; nothing of it is left")
    func failureInTheMiddle() throws {
        let directory = TemporaryDirectory()
        let good = directory.file("good.wav")
        try TestAudioWriter.write(Signals.speechLike(count: 40_000, seed: 3), channels: 1, sampleRate: 16000,
                                  format: .wavPCM16, to: good)
        try Data("not audio".utf8).write(to: URL(fileURLWithPath: directory.file("text.wav")))
        let items = [
            JobItem(id: "1", input: good, output: directory.file("out/1.npy")),
            JobItem(id: "2", input: directory.file("missing.wav"), output: directory.file("out/2.npy")),
            JobItem(id: "3", input: directory.file("text.wav"), output: directory.file("out/3.npy")),
            JobItem(id: "4", input: good, output: directory.file("out/4.npy")),
        ]
        let embedder = try Embedder(modelDirectory: Self.voxtral, configuration: .init(chunksPerBatch: 4))
        var results: [String: JobResult] = [:]
        let summary = EmbeddingJob(embedder: embedder, items: items).run { results[$0.item.id] = $0 }
        #expect(summary.embedded == 2 && summary.failed == 2)
        #expect(results["1"]?.status == .embedded && results["4"]?.status == .embedded)
        guard case .audio(.fileNotFound)? = results["2"]?.error else { Issue.record("\(String(describing: results["2"]))"); return }
        guard case .audio? = results["3"]?.error else { Issue.record("\(String(describing: results["3"]))"); return }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.file("out")).sorted()
                == ["1.json", "1.npy", "4.json", "4.npy"])
    }

    @Test("--skip-existing: complete outputs are skipped; an array without its sidecar or cut short is redone")
    func skipExisting() throws {
        let directory = TemporaryDirectory()
        let input = directory.file("a.wav")
        try TestAudioWriter.write(Signals.speechLike(count: 50_000, seed: 5), channels: 1, sampleRate: 16000,
                                  format: .wavPCM16, to: input)
        let output = directory.file("a.npy")
        let item = JobItem(id: "a", input: input, output: output)
        let embedder = try Embedder(modelDirectory: Self.voxtral)
        let options = JobOptions(skipExisting: true)
        func run() -> JobResult.Status? {
            var status: JobResult.Status?
            EmbeddingJob(embedder: embedder, items: [item], options: options).run { status = $0.status }
            return status
        }
        #expect(run() == .embedded)
        let complete = try Data(contentsOf: URL(fileURLWithPath: output))
        #expect(CompletedOutput.facts(at: output, format: .npy) == .init(frameCount: 375, dimension: 96, durationSeconds: 50_000.0 / 16000))
        #expect(run() == .skipped)

        // Killed between the array's rename and the sidecar's: redone.
        try FileManager.default.removeItem(atPath: directory.file("a.json"))
        #expect(CompletedOutput.facts(at: output, format: .npy) == nil)
        #expect(run() == .embedded)
        // An array cut short (not one of ours, but possible on a broken disk): redone, bit-identical.
        try complete.prefix(complete.count - 4).write(to: URL(fileURLWithPath: output))
        #expect(CompletedOutput.facts(at: output, format: .npy) == nil)
        #expect(run() == .embedded)
        #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == complete)
    }

    @Test("temporary files a kill left behind are recognised and removed for the job's own outputs only")
    func staleTemporaries() throws {
        #expect(StaleTemporaries.targetName(ofTemporary: ".a.npy.tmp-Ab12Cd") == "a.npy")
        #expect(StaleTemporaries.targetName(ofTemporary: ".a.json.tmp-000000") == "a.json")
        #expect(StaleTemporaries.targetName(ofTemporary: ".a.npy.tmp-Ab12") == nil)
        #expect(StaleTemporaries.targetName(ofTemporary: "a.npy.tmp-Ab12Cd") == nil)
        let directory = TemporaryDirectory()
        for name in [".a.npy.tmp-Ab12Cd", ".a.json.tmp-xY3456", ".b.npy.tmp-Qq1234", "keep.txt"] {
            _ = FileManager.default.createFile(atPath: directory.file(name), contents: Data())
        }
        let removed = StaleTemporaries.remove(besides: [directory.file("a.npy")], format: .npy)
        #expect(removed.count == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == [".b.npy.tmp-Qq1234", "keep.txt"])
    }

    @Test("an input directory lists audio files by extension, sorted, recursively on request, hidden files skipped")
    func inputDirectory() throws {
        let directory = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.file("sub/deeper"), withIntermediateDirectories: true)
        for name in ["b.wav", "a.FLAC", "notes.txt", ".hidden.wav", "sub/c.opus", "sub/deeper/d.m4a"] {
            _ = FileManager.default.createFile(atPath: directory.file(name), contents: Data())
        }
        #expect(try Manifest.list(directory: directory.path, recursive: false).map(\.id) == ["a.FLAC", "b.wav"])
        #expect(try Manifest.list(directory: directory.path, recursive: true).map(\.id)
                == ["a.FLAC", "b.wav", "sub/c.opus", "sub/deeper/d.m4a"])
        #expect(throws: JobError.inputDirectory(path: directory.file("nope"), reason: "no such directory")) {
            try Manifest.list(directory: directory.file("nope"), recursive: false)
        }
    }
}
