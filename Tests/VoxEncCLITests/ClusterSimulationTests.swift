// A cluster on one machine: four workers over four shards of a manifest, each killed with SIGKILL mid-job (as soon as
// the attempt has embedded a file: an event of the job, not a clock) up to three times and restarted with the same
// command (--skip-existing) until it finishes. The union of their outputs must equal a
// single-process run bit for bit, every file exactly once, no temporary file left, and the JSON lines of the last
// runs must account for every file, the broken ones listed with their errors.

import Foundation
import Testing
@_spi(Engine) import VoxEnc
import VoxEncModel
import VoxEncAudio
import VoxEncTestSupport

@Suite("Batch jobs through the CLI")
struct ClusterSimulationTests {
    static let model = Fixtures.path("encoder/voxtral-tiny-hf")

    /// ~40 short files (0.3 … 48 s: one or two chunks; 16, 22.05 and 44.1 kHz; WAV and FLAC) in speaker folders,
    /// one text file posing as audio and one missing path. Returns the JSON-lines manifest.
    static func makeCorpus(in directory: TemporaryDirectory, count: Int) throws -> (manifest: String, broken: Set<String>) {
        let rates = [16000, 22050, 44100]
        let uniform = Signals.lcgUniform(count: count, seed: 2026)
        var lines: [String] = []
        for index in 0..<count {
            let id = "spk\(index % 4)/utt\(index)"
            let format: TestAudioFormat = index % 2 == 0 ? .wavPCM16 : .flac16
            let path = directory.file("audio/\(index).\(format.fileExtension)")
            try FileManager.default.createDirectory(atPath: directory.file("audio"), withIntermediateDirectories: true)
            let rate = rates[index % 3]
            let seconds = 0.3 + (uniform[index] + 0.5) * 48
            try TestAudioWriter.write(Signals.speechLike(count: Int(seconds * Double(rate)), seed: index), channels: 1,
                                      sampleRate: rate, format: format, to: path)
            lines.append("{\"id\": \"\(id)\", \"path\": \"\(path)\"}")
        }
        try Data("just text".utf8).write(to: URL(fileURLWithPath: directory.file("audio/text.wav")))
        lines.append("{\"id\": \"broken/text\", \"path\": \"\(directory.file("audio/text.wav"))\"}")
        lines.append("{\"id\": \"broken/missing\", \"path\": \"\(directory.file("audio/missing.flac"))\"}")
        let manifest = directory.file("manifest.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(toFile: manifest, atomically: true, encoding: .utf8)
        return (manifest, ["broken/text", "broken/missing"])
    }

    static func jsonLines(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// Every file under `root`, relative, sorted.
    static func files(under root: String) -> [String] {
        (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? [])
            .filter { !isDirectory(root + "/" + $0) }.sorted()
    }

    static func isDirectory(_ path: String) -> Bool {
        var flag: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &flag) && flag.boolValue
    }

    @Test("4 workers × 4 shards, killed at random and restarted: outputs equal a single run, each file once")
    func killedWorkersResume() throws {
        let directory = TemporaryDirectory()
        let (manifest, broken) = try Self.makeCorpus(in: directory, count: 40)
        let common = ["embed", "--manifest", manifest, "--model", Self.model, "--threads", "1"]

        // The single-process run everything is compared with.
        let reference = try VoxEncProcess.run(common + ["--output-dir", directory.file("reference")])
        #expect(reference.status == 3, "a job that went through every file but some failed ends with 3: \(reference.stderr)")
        let referenceLines = Self.jsonLines(reference.stdout)
        #expect(referenceLines.count == 42)
        #expect(Set(referenceLines.filter { $0["status"] as? String == "failed" }.compactMap { $0["id"] as? String }) == broken)

        // Four workers, each killed up to three times once its current attempt has embedded a file (its JSON lines
        // say "ok"), then left to finish. Precondition: every shard holds ≥ 2 good files, so that each worker is
        // killed at least once before it can finish (counted below; the shard hash is fixed, so this is too).
        let output = directory.file("cluster")
        let goodIDs = referenceLines.filter { $0["status"] as? String == "ok" }.compactMap { $0["id"] as? String }
        for shard in 0..<4 {
            let count = try goodIDs.filter { try Shard(index: shard, count: 4).contains(id: $0) }.count
            try #require(count >= 2, "shard \(shard) has \(count) good files: too few to be killed mid-job")
        }
        struct Worker { var process: Process; var log: String; var kills: Int; var attempt: Int }
        func launch(_ shard: Int, attempt: Int, kills: Int) throws -> Worker {
            let log = directory.file("worker\(shard)-\(attempt).jsonl")
            let process = try VoxEncProcess.start(
                common + ["--output-dir", output, "--shard", "\(shard)/4", "--skip-existing", "--chunks-per-batch", "3"],
                stdout: log, stderr: directory.file("worker\(shard)-\(attempt).err"))
            return Worker(process: process, log: log, kills: kills, attempt: attempt)
        }
        func embeddedThisAttempt(_ worker: Worker) -> Int {
            Self.jsonLines((try? String(contentsOfFile: worker.log, encoding: .utf8)) ?? "")
                .filter { $0["status"] as? String == "ok" }.count
        }
        var workers = try (0..<4).map { try launch($0, attempt: 0, kills: 0) }
        var finished = [Int: Int]()  // shard → its last attempt
        var killLog: [String] = []
        let giveUp = Date().addingTimeInterval(600)
        while finished.count < 4 && Date() < giveUp {
            usleep(10_000)
            for shard in 0..<4 where finished[shard] == nil {
                let worker = workers[shard]
                if !worker.process.isRunning {
                    if worker.process.terminationReason == .exit {
                        #expect([0, 3].contains(worker.process.terminationStatus), "shard \(shard)")
                        finished[shard] = worker.attempt
                    } else {
                        workers[shard] = try launch(shard, attempt: worker.attempt + 1, kills: worker.kills)
                    }
                } else if worker.kills < 3, embeddedThisAttempt(worker) >= 1 {
                    kill(worker.process.processIdentifier, SIGKILL)
                    worker.process.waitUntilExit()
                    killLog.append("shard \(shard) attempt \(worker.attempt)")
                    workers[shard] = try launch(shard, attempt: worker.attempt + 1, kills: worker.kills + 1)
                }
            }
        }
        try #require(finished.count == 4, "workers did not finish in time; kills: \(killLog)")
        #expect(killLog.count >= 4, "each worker should have been killed mid-job at least once: \(killLog)")

        // The union of outputs is the single run's, bit for bit, and nothing else is there (no temporaries).
        let expected = Self.files(under: directory.file("reference"))
        let actual = Self.files(under: output)
        #expect(actual == expected)
        #expect(expected.count == 2 * 40)
        for file in expected where file.hasSuffix(".npy") {
            let a = FileManager.default.contents(atPath: output + "/" + file)
            let b = FileManager.default.contents(atPath: directory.file("reference/" + file))
            #expect(a != nil && a == b, "\(file) differs from the single-process run")
        }
        for file in expected where file.hasSuffix(".json") {
            let a = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output + "/" + file))) as? NSDictionary
            let b = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory.file("reference/" + file)))) as? NSDictionary
            #expect(a != nil && a == b, "\(file): sidecar differs")
        }

        // The last run of each shard accounts for every file exactly once: done (now or before) or failed.
        var seen: [String: String] = [:]
        for (shard, attempt) in finished {
            let text = try String(contentsOfFile: directory.file("worker\(shard)-\(attempt).jsonl"), encoding: .utf8)
            for line in Self.jsonLines(text) {
                let id = line["id"] as? String ?? "?"
                #expect(seen[id] == nil, "\(id) reported by two shards")
                seen[id] = line["status"] as? String
                if line["status"] as? String == "failed" { #expect((line["error"] as? String)?.isEmpty == false) }
            }
        }
        #expect(seen.count == 42)
        #expect(Set(seen.filter { $0.value == "failed" }.keys) == broken)
        #expect(seen.values.allSatisfy { ["ok", "skipped", "failed"].contains($0) })
    }

    @Test("--manifest - reads stdin; --shard auto follows Slurm's variables and matches --shard I/N")
    func stdinManifestAndSchedulerShards() throws {
        let directory = TemporaryDirectory()
        let (manifest, _) = try Self.makeCorpus(in: directory, count: 6)
        let explicit = try VoxEncProcess.runShell(
            "\"$VOXENC\" embed --manifest - --model '\(Self.model)' --output-dir '\(directory.file("a"))' --shard 1/3 < '\(manifest)'")
        let auto = try VoxEncProcess.run(["embed", "--manifest", manifest, "--model", Self.model, "--output-dir", directory.file("b"),
                                          "--shard", "auto"],
                                         environment: ["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_MIN": "1",
                                                       "SLURM_ARRAY_TASK_COUNT": "3"])
        let ids = { (text: String) in Self.jsonLines(text).compactMap { $0["id"] as? String }.sorted() }
        #expect(!ids(explicit.stdout).isEmpty)
        #expect(ids(explicit.stdout) == ids(auto.stdout), "\(explicit.stderr) \(auto.stderr)")
        let expectedIDs = Self.jsonLines(try String(contentsOfFile: manifest, encoding: .utf8))
            .compactMap { $0["id"] as? String }.filter { (try? Shard(index: 1, count: 3).contains(id: $0)) == true }.sorted()
        #expect(ids(explicit.stdout) == expectedIDs)
        let unset = try VoxEncProcess.run(["embed", "--manifest", manifest, "--model", Self.model, "--shard", "auto"])
        #expect(unset.status == 64 && unset.stderr.contains("neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX"))
    }

    /// script(1) (util-linux) runs, to give a command a pseudo-terminal.
    static let scriptAvailable: Bool = (try? VoxEncProcess.runShell("script -qec true /dev/null").status) == 0

    @Test("the progress bar appears on a terminal's stderr only, and --quiet silences stderr",
          .enabled(if: scriptAvailable, "needs script(1) (util-linux) for a pseudo-terminal"))
    func progressOnTerminalsOnly() throws {
        let directory = TemporaryDirectory()
        let (manifest, _) = try Self.makeCorpus(in: directory, count: 3)
        let command = "\"$VOXENC\" embed --manifest '\(manifest)' --model '\(Self.model)' --output-dir '\(directory.file("o"))'"
        // script(1) gives the command a pseudo-terminal.
        let onTerminal = try VoxEncProcess.runShell("script -qec \"\(command.replacingOccurrences(of: "\"", with: "\\\""))\" /dev/null")
        #expect(onTerminal.stdout.contains("files ·") && onTerminal.stdout.contains("× real time"), "\(onTerminal.stdout)")
        let piped = try VoxEncProcess.runShell(command + " --force")
        #expect(!piped.stderr.contains("files ·"))
        #expect(piped.stderr.contains("3 embedded, 0 skipped, 2 failed of 5 files"), "\(piped.stderr)")
        let quiet = try VoxEncProcess.runShell(command + " --force --quiet")
        #expect(quiet.stderr.isEmpty, "\(quiet.stderr)")
        #expect(Self.jsonLines(quiet.stdout).count == 5)
    }
}
