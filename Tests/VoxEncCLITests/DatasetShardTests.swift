// WebDataset shards through the CLI: --output-tar (members appended whole; a torn partial resumed after its last
// complete sample; SIGKILL mid-shard and the rerun gives the uninterrupted shard byte for byte), --input-tar (audio
// members decoded from the archive, outputs equal to embedding the extracted files; bad members fail alone, named
// ARCHIVE:MEMBER), --pool mean against the rows of the float32 output, --dtype bfloat16 refused in .npy.
// Archives are made and read by GNU tar, the reference tar implementation; Python's tarfile and webdataset read
// them in python/tests/test_datasets.py.

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
import VoxEnc
import VoxEncTestSupport

@Suite("WebDataset shards, dtypes and pooling through the CLI")
struct DatasetShardTests {
    static let model = Fixtures.path("encoder/voxtral-tiny-hf")
    static let audio = ["speech-16k.wav", "speech-22k-stereo.flac", "speech-44k-stereo-37s.flac"]

    /// DIR/in/… holding the committed recordings under keys spk0/a … (and a broken member when asked), packed by GNU
    /// tar into DIR/in.tar. Returns the archive.
    static func makeInputTar(_ directory: TemporaryDirectory, broken: Bool) throws -> String {
        var names: [String] = []
        for (index, name) in audio.enumerated() {
            let ext = (name as NSString).pathExtension
            let member = "spk\(index % 2)/utt\(index).\(ext)"
            try FileManager.default.createDirectory(atPath: directory.file("in/spk\(index % 2)"), withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: Fixtures.path("audio/" + name), toPath: directory.file("in/" + member))
            names.append(member)
        }
        if broken {
            try Data("not audio at all".utf8).write(to: URL(fileURLWithPath: directory.file("in/spk1/broken.wav")))
            names.insert("spk1/broken.wav", at: 1)
        }
        try Data("a transcript".utf8).write(to: URL(fileURLWithPath: directory.file("in/spk0/utt0.txt")))
        names.append("spk0/utt0.txt")  // not audio: left alone
        let result = try VoxEncProcess.runShell("cd '\(directory.file("in"))' && tar --format=ustar -cf ../in.tar \(names.joined(separator: " "))")
        #expect(result.status == 0, "\(result.stderr)")
        return directory.file("in.tar")
    }

    static func embed(_ arguments: [String]) throws -> VoxEncProcess.Result {
        try VoxEncProcess.run(["embed", "--model", model, "--threads", "2", "--quiet"] + arguments)
    }

    /// GNU tar's listing of an archive (names only), which fails on a malformed archive.
    static func listing(_ tar: String) throws -> [String] {
        let result = try VoxEncProcess.runShell("tar -tf '\(tar)'")
        #expect(result.status == 0, "GNU tar cannot read \(tar): \(result.stderr)")
        return result.stdout.split(separator: "\n").map(String.init)
    }

    @Test("--input-tar → --output-tar: members equal the files a directory run writes; a bad member fails alone")
    func tarInTarOut() throws {
        let directory = TemporaryDirectory()
        let tar = try Self.makeInputTar(directory, broken: true)
        let shard = try Self.embed(["--input-tar", tar, "--output-tar", directory.file("out/shard-{shard}.tar")])
        #expect(shard.status == 3, "a broken member: exit 3; \(shard.stderr)")
        let lines = shard.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let failed = lines.filter { $0["status"] as? String == "failed" }
        #expect(failed.count == 1 && (failed.first?["error"] as? String ?? "").hasPrefix(tar + ":spk1/broken.wav: "),
                "the error names the archive and the member: \(failed)")
        let output = directory.file("out/shard-000000.tar")
        #expect(!FileManager.default.fileExists(atPath: output + ".partial"))
        #expect(try Self.listing(output) == ["spk0/utt0.npy", "spk0/utt0.json", "spk1/utt1.npy", "spk1/utt1.json",
                                             "spk0/utt2.npy", "spk0/utt2.json"])
        // The same audio as files, embedded into a directory: each member equals its file byte for byte (npy);
        // the sidecars differ only in "input".
        let files = try Self.embed(["--input-dir", directory.file("in"), "--recursive", "--output-dir", directory.file("files")])
        #expect(files.status == 3)
        _ = try VoxEncProcess.runShell("mkdir -p '\(directory.file("x"))' && tar -xf '\(output)' -C '\(directory.file("x"))'")
        for key in ["spk0/utt0", "spk1/utt1", "spk0/utt2"] {
            let member = FileManager.default.contents(atPath: directory.file("x/\(key).npy"))
            #expect(member != nil && member == FileManager.default.contents(atPath: directory.file("files/\(key).npy")), "\(key)")
            let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory.file("x/\(key).json")))) as! [String: Any]
            #expect((meta["input"] as? String)?.hasPrefix(tar + ":" + key + ".") == true)
        }
    }

    @Test("bad input tars: missing (66), not a tar (65), a member cut short and a damaged header fail alone (exit 3); no model: no partial")
    func badInputTars() throws {
        let directory = TemporaryDirectory()
        let tar = try Self.makeInputTar(directory, broken: false)
        let noModel = try VoxEncProcess.run(["embed", "--input-tar", tar, "--model", directory.file("no-model"),
                                             "--output-tar", directory.file("shards/s.tar")])
        #expect(noModel.status == 66 && (try? FileManager.default.contentsOfDirectory(atPath: directory.file("shards")))?.isEmpty != false,
                "a job that cannot start leaves no partial shard")
        let missing = try Self.embed(["--input-tar", directory.file("none.tar"), "--output-dir", directory.file("o")])
        #expect(missing.status == 66 && missing.stderr.contains("none.tar"))
        let notATar = try Self.embed(["--input-tar", Fixtures.path("audio/speech-16k.wav"), "--output-dir", directory.file("o")])
        #expect(notATar.status == 65 && notATar.stderr.contains("damaged tar at byte 0"))
        let whole = try Data(contentsOf: URL(fileURLWithPath: tar))
        let members = try TarArchive(contentsOf: tar).members
        // Cut inside the second member's data: the first is embedded, the second fails naming archive and member.
        let cut = directory.file("cut.tar")
        try whole.prefix(members[1].offset + 1000).write(to: URL(fileURLWithPath: cut))
        let short = try Self.embed(["--input-tar", cut, "--output-dir", directory.file("cut")])
        #expect(short.status == 3 && short.stdout.contains("\"ok\"") && short.stdout.contains("\(cut):\(members[1].name): member cut short"))
        // The second member's header overwritten: the first is embedded, the archive reported damaged at that byte.
        var damaged = whole
        damaged.replaceSubrange((members[1].offset - 512)..<members[1].offset, with: [UInt8](repeating: 0x78, count: 512))
        let damagedPath = directory.file("damaged.tar")
        try damaged.write(to: URL(fileURLWithPath: damagedPath))
        let broken = try Self.embed(["--input-tar", damagedPath, "--output-dir", directory.file("damaged")])
        #expect(broken.status == 3 && broken.stdout.contains("damaged tar at byte \(members[1].offset - 512)"))
        #expect(FileManager.default.fileExists(atPath: directory.file("damaged/\(TarArchive.keyAndExtension(of: members[0].name).key).npy")))
    }

    @Test("a torn partial shard is cut after its last complete sample and finished as if never interrupted")
    func tornPartialResumes() throws {
        let directory = TemporaryDirectory()
        let tar = try Self.makeInputTar(directory, broken: false)
        let reference = directory.file("ref/shard.tar")
        #expect(try Self.embed(["--input-tar", tar, "--output-tar", reference, "--dtype", "float16"]).status == 0)
        let whole = try Data(contentsOf: URL(fileURLWithPath: reference))
        // Cuts: inside the first header, inside the first array, between the array and its sidecar, inside the second
        // sample, just before the end-of-archive blocks.
        let firstArray = 512 + (try TarArchive(contentsOf: reference).members[0].size)
        for cut in [100, 700, firstArray + 512 - firstArray % 512, firstArray + 2000, whole.count / 2, whole.count - 1024] {
            let target = directory.file("cut-\(cut)/shard.tar")
            try FileManager.default.createDirectory(atPath: directory.file("cut-\(cut)"), withIntermediateDirectories: true)
            try whole.prefix(cut).write(to: URL(fileURLWithPath: target + ".partial"))
            let refused = try Self.embed(["--input-tar", tar, "--output-tar", target, "--dtype", "float16"])
            #expect(refused.status == 73 && refused.stderr.contains("--skip-existing"), "a partial is not resumed unasked")
            let resumed = try Self.embed(["--input-tar", tar, "--output-tar", target, "--dtype", "float16", "--skip-existing"])
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: target)) == whole, "cut at byte \(cut)")
            let again = try Self.embed(["--input-tar", tar, "--output-tar", target, "--dtype", "float16", "--skip-existing"])
            #expect(again.status == 0 && again.stdout.components(separatedBy: "\"skipped\"").count - 1 == Self.audio.count)
        }
    }

    @Test("SIGKILL mid-shard, rerun with --skip-existing: the shard equals an uninterrupted run byte for byte")
    func killedMidShard() throws {
        let directory = TemporaryDirectory()
        var lines: [String] = []
        for index in 0..<8 {  // eight 20 s recordings: one chunk each
            let path = directory.file("a/\(index).wav")
            try FileManager.default.createDirectory(atPath: directory.file("a"), withIntermediateDirectories: true)
            try TestAudioWriter.write(Signals.speechLike(count: 16000 * 20, seed: index), channels: 1, sampleRate: 16000,
                                      format: .wavPCM16, to: path)
            lines.append("{\"id\": \"u\(index)\", \"path\": \"\(path)\"}")
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: directory.file("m.jsonl"), atomically: true, encoding: .utf8)
        let arguments = ["embed", "--model", Self.model, "--threads", "1", "--chunks-per-batch", "1", "--quiet",
                         "--manifest", directory.file("m.jsonl"), "--format", "safetensors", "--dtype", "bfloat16"]
        #expect(try VoxEncProcess.run(arguments + ["--output-tar", directory.file("ref.tar")]).status == 0)
        let target = directory.file("killed.tar")
        let worker = try VoxEncProcess.start(arguments + ["--output-tar", target], stdout: directory.file("o1"),
                                             stderr: directory.file("e1"))
        // Kill once two samples are complete in the partial (read from its headers as it grows), before the end.
        var complete = 0
        while worker.isRunning {
            complete = (try? TarArchive(contentsOf: target + ".partial"))?.members.filter { $0.name.hasSuffix(".json") }.count ?? 0
            if complete >= 2 { kill(worker.processIdentifier, SIGKILL); break }
            usleep(2000)
        }
        worker.waitUntilExit()
        #expect(worker.terminationReason == .uncaughtSignal && complete >= 2, "killed mid-shard")
        #expect(FileManager.default.fileExists(atPath: target + ".partial") && !FileManager.default.fileExists(atPath: target))
        let rerun = try VoxEncProcess.run(arguments + ["--output-tar", target, "--skip-existing"])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(rerun.stdout.contains("\"skipped\"") && rerun.stdout.contains("\"ok\""), "the rerun both skipped and embedded")
        #expect(try Data(contentsOf: URL(fileURLWithPath: target)) == Data(contentsOf: URL(fileURLWithPath: directory.file("ref.tar"))))
        #expect(try Self.listing(target).count == 16)
        #expect(!FileManager.default.fileExists(atPath: target + ".partial"))
    }

    @Test("--pool mean: the mean of the rows that cover the audio in the float32 output, never the padding")
    func meanPool() throws {
        let directory = TemporaryDirectory()
        let input = Fixtures.path("audio/speech-16k.wav")
        #expect(try Self.embed([input, "-o", directory.file("rows.npy")]).status == 0)
        #expect(try Self.embed([input, "-o", directory.file("mean.npy"), "--pool", "mean"]).status == 0)
        let rows = try NumpyArray(contentsOf: directory.file("rows.npy"))
        let mean = try NumpyArray(contentsOf: directory.file("mean.npy"))
        let sidecar = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory.file("mean.json")))) as! [String: Any]
        let valid = sidecar["valid_frame_count"] as! Int, width = rows.shape[1]
        #expect(mean.shape == [width] && sidecar["pool"] as? String == "mean" && valid < rows.shape[0])
        func columnMean(_ count: Int) -> [Float] {
            (0..<width).map { c in Float((0..<count).reduce(0.0) { $0 + Double(rows.values[$1 * width + c]) } / Double(count)) }
        }
        #expect(mean.values == columnMean(valid))
        #expect(mean.values != columnMean(rows.shape[0]), "the padding rows are left out")
    }

    @Test("bfloat16 in .npy is refused with a hint, nothing written; float16 .npy says <f2 and float16")
    func dtypeFormats() throws {
        let directory = TemporaryDirectory()
        let input = Fixtures.path("audio/speech-16k.wav")
        let refused = try Self.embed([input, "-o", directory.file("x.npy"), "--dtype", "bfloat16"])
        #expect(refused.status == 64 && refused.stderr.contains("--format safetensors"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
        #expect(try Self.embed([input, "-o", directory.file("h.npy"), "--dtype", "float16"]).status == 0)
        let header = String(decoding: try Data(contentsOf: URL(fileURLWithPath: directory.file("h.npy"))).prefix(128), as: UTF8.self)
        #expect(header.contains("'descr': '<f2'"))
        let sidecar = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory.file("h.json")))) as! [String: Any]
        #expect(sidecar["dtype"] as? String == "float16")
        let skipped = try Self.embed([input, "-o", directory.file("h.npy"), "--dtype", "float16", "--skip-existing"])
        #expect(skipped.status == 0 && skipped.stdout.contains("complete, skipped"), "a float16 output counts as complete")
    }
}
