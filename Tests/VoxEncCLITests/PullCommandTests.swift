// `voxenc pull` as a user runs it, against a real HTTP server on loopback that reproduces the Hub's download protocol
// (LoopbackHub, Tests/hub/hub_server.py): the bytes that cross the network, the pulled directory's tensors and
// embeddings against the full repository's, resume after SIGKILL, retries, every error path, and servers that lie.

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
import VoxEncTestSupport

@Suite("voxenc pull (the real binary, a loopback hub)")
struct PullCommandTests {
    static let speech = Fixtures.path("audio/speech-16k.wav")
    /// No token from the machine running the tests, fast retries.
    static let environment = ["HF_TOKEN": "", "HF_TOKEN_PATH": "/nonexistent/voxenc-token", "HF_ENDPOINT": "",
                              "VOXENC_PULL_BACKOFF": "0.05"]

    static func pull(_ arguments: [String], hub: LoopbackHub?, environment: [String: String] = [:]) throws -> VoxEncProcess.Result {
        try VoxEncProcess.run(["pull"] + arguments + (hub.map { ["--endpoint", $0.endpoint] } ?? []),
                              environment: Self.environment.merging(environment) { $1 })
    }

    /// `voxenc embed` of the speech sample with `model`: the .npy's bytes.
    static func embed(_ model: String, in directory: TemporaryDirectory) throws -> Data {
        let output = directory.file("embed-\(UUID().uuidString).npy")
        let result = try VoxEncProcess.run(["embed", speech, "--model", model, "-o", output])
        #expect(result.status == 0, "\(model): \(result.stderr)")
        return try Data(contentsOf: URL(fileURLWithPath: output))
    }

    static func listing(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    /// Tensors of the full repository's safetensors files, by name (the index's shards, or the single file).
    static func sourceTensors(_ repository: String, files: [String]) throws -> [String: RawTensor] {
        var tensors: [String: RawTensor] = [:]
        for file in files {
            for tensor in try SafeTensorsFileBuilder.read(LoopbackHub.repository(repository) + "/" + file).tensors {
                tensors[tensor.name] = tensor
            }
        }
        return tensors
    }

    @Test("a Voxtral repository sharded like the real one: only the audio tensors cross the network, kept as they were, and the pulled directory embeds bit for bit as the full one")
    func shardedVoxtral() throws {
        let hub = try LoopbackHub()
        let work = TemporaryDirectory()
        let target = work.file("voxtral")
        let result = try Self.pull(["mistralai/Voxtral-Tiny", "--dir", target], hub: hub)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty, "no progress bar off a terminal: \(result.stderr)")
        #expect(Self.listing(target) == [".voxenc-pull.json", "config.json", "generation_config.json", "model.safetensors",
                                         "preprocessor_config.json"])

        // Every audio tensor, with its name, dtype, shape and bytes; nothing else.
        let pulled = try SafeTensorsFileBuilder.read(target + "/model.safetensors")
        let source = try Self.sourceTensors("mistralai/Voxtral-Tiny", files: (1...3).map { "model-0000\($0)-of-00003.safetensors" })
        let audioNames = source.keys.filter { $0.hasPrefix("audio_tower.") || $0.hasPrefix("multi_modal_projector.") }
        #expect(Set(pulled.tensors.map(\.name)) == Set(audioNames))
        for tensor in pulled.tensors {
            let original = try #require(source[tensor.name])
            #expect(tensor.dtype == original.dtype && tensor.shape == original.shape && tensor.bytes == original.bytes, "\(tensor.name)")
        }
        #expect(pulled.metadata?["voxenc_source"]?.hasPrefix("mistralai/Voxtral-Tiny@") == true)

        // The bytes fetched: the audio tensors, two 100,000-byte header reads, the listing and the small files.
        let audioBytes = pulled.tensors.reduce(0) { $0 + $1.bytes.count }
        let served = hub.served()
        let tensorBytes = served.filter { $0.path.contains("/cdn/") }.reduce(0) { $0 + $1.bytes }
        #expect(tensorBytes >= audioBytes && tensorBytes <= audioBytes + 2 * 100_000, "\(tensorBytes) for \(audioBytes)")
        let total = hub.bytesServed
        #expect(total <= audioBytes + 2 * 100_000 + 40_000, "\(total) bytes served for \(audioBytes) of audio tensors")
        let repositoryBytes = LoopbackHub.repositoryBytes("mistralai/Voxtral-Tiny")
        #expect(Double(total) <= 0.05 * Double(repositoryBytes), "\(total) of \(repositoryBytes)")  // not a tolerance: a byte budget (headers and the audio tensors only)
        #expect(!served.contains { $0.path.contains("consolidated") || $0.path.contains("model-00003") || $0.path.contains("tekken") },
                "files without audio tensors are never asked for")
        #expect(result.stdout.contains("% of the repository") || result.stdout.contains("%)"), "\(result.stdout)")

        // Bit for bit the full repository's embeddings.
        #expect(try Self.embed(target, in: work) == Self.embed(LoopbackHub.repository("mistralai/Voxtral-Tiny"), in: work))

        // Again: nothing to fetch but the plan.
        let before = hub.bytesServed
        let again = try Self.pull(["mistralai/Voxtral-Tiny", "--dir", target], hub: hub)
        #expect(again.status == 0 && again.stdout.contains("already holds"), "\(again.stdout) \(again.stderr)")
        #expect(hub.bytesServed - before < 2 * 100_000 + 40_000)
    }

    @Test("every layout voxenc reads pulls into a directory that embeds bit for bit as the full one",
          arguments: ["test/voxtral-mistral", "test/whisper-tiny", "test/realtime-tiny", "test/realtime-mistral", "test/ct2-tiny"])
    func everyLayout(repository: String) throws {
        let hub = try LoopbackHub()
        let work = TemporaryDirectory()
        let target = work.file("model")
        let result = try Self.pull([repository, "--dir", target], hub: hub)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!Self.listing(target).contains(".voxenc-pull"), "no staging left")
        #expect(try Self.embed(target, in: work) == Self.embed(LoopbackHub.repository(repository), in: work))
        if repository == "test/voxtral-mistral" {
            #expect(Self.listing(target) == [".voxenc-pull.json", "consolidated.safetensors", "params.json"])
            #expect(Double(hub.bytesServed) <= 0.06 * Double(LoopbackHub.repositoryBytes(repository)))  // not a tolerance: a byte budget
        }
        if repository == "test/ct2-tiny" {
            #expect(Self.listing(target) == [".voxenc-pull.json", "config.json", "model.bin"])
        }
    }

    @Test("a listing with file names only (no commit, sizes or sha256s): commit, sizes and ETags come from the resolve responses",
          arguments: ["mistralai/Voxtral-Tiny", "test/ct2-tiny"])
    func plainListing(repository: String) throws {
        // And a hub that serves the listing only at /revision/{revision}: asked there after the plain form's 404.
        let revisionOnly = try LoopbackHub(["--revision-listing-only"])
        let elsewhere = TemporaryDirectory()
        let fallback = try Self.pull([repository, "--dir", elsewhere.file("m")], hub: revisionOnly)
        #expect(fallback.status == 0, "\(fallback.stderr)")
        #expect(revisionOnly.served().contains { $0.path.hasPrefix("/api/models/\(repository)/revision/main?") })

        let hub = try LoopbackHub(["--plain-listing"])
        let work = TemporaryDirectory()
        let target = work.file("model")
        let result = try Self.pull([repository, "--dir", target], hub: hub)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(hub.served().first?.path.hasPrefix("/api/models/\(repository)?") == true, "no --revision: the plain listing")
        #expect(try Self.embed(target, in: work) == Self.embed(LoopbackHub.repository(repository), in: work))
    }

    @Test("--dry-run prints each file and the bytes it would fetch, and writes nothing")
    func dryRun() throws {
        let hub = try LoopbackHub()
        let work = TemporaryDirectory()
        let target = work.file("voxtral")
        let result = try Self.pull(["mistralai/Voxtral-Tiny", "--dir", target, "--dry-run"], hub: hub)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("model.safetensors") && result.stdout.contains("39 tensors"), "\(result.stdout)")
        #expect(result.stdout.contains("would fetch") && result.stdout.contains("of the repository's"), "\(result.stdout)")
        #expect(!FileManager.default.fileExists(atPath: target))
        #expect(!hub.served().contains { $0.path.contains("/cdn/") && $0.range != "bytes=0-99999" },
                "only header reads of the weights")
    }

    /// Waits until the staging journal lists `pieces` pieces.
    static func waitForPieces(_ directory: String, _ pieces: Int, seconds: Double = 60) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let text = (try? String(contentsOfFile: directory + "/.voxenc-pull/done", encoding: .utf8)) ?? ""
            if text.split(separator: "\n").count >= pieces { return true }
            usleep(20_000)
        }
        return false
    }

    @Test("SIGKILL mid-tensor leaves no final file; a rerun fetches only what is missing and the model embeds bit for bit")
    func resumeAfterKill() throws {
        let hub = try LoopbackHub(["--throttle", "150000"])
        let work = TemporaryDirectory()
        let target = work.file("voxtral")
        let environment = Self.environment.merging(["VOXENC_PULL_PIECE_BYTES": "65536"]) { $1 }
        let worker = try VoxEncProcess.start(["pull", "mistralai/Voxtral-Tiny", "--dir", target, "--endpoint", hub.endpoint],
                                             stdout: work.file("out"), stderr: work.file("err"), environment: environment)
        #expect(Self.waitForPieces(target, 3))
        kill(worker.processIdentifier, SIGKILL)
        worker.waitUntilExit()
        #expect(Self.listing(target) == [".voxenc-pull"], "nothing final after a kill: \(Self.listing(target))")
        let firstRun = hub.served().filter { $0.path.contains("/cdn/") }.reduce(0) { $0 + $1.bytes }

        let result = try VoxEncProcess.run(["pull", "mistralai/Voxtral-Tiny", "--dir", target, "--endpoint", hub.endpoint],
                                           environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("pieces resumed"), "\(result.stdout)")
        let audioBytes = try SafeTensorsFileBuilder.read(target + "/model.safetensors").tensors.reduce(0) { $0 + $1.bytes.count }
        let both = hub.served().filter { $0.path.contains("/cdn/") }.reduce(0) { $0 + $1.bytes }
        // Both runs together: the audio once, the piece cut by the kill again, and each run's two header reads.
        #expect(both <= audioBytes + 65536 + 4 * 100_000, "\(both) bytes for \(audioBytes) (first run: \(firstRun))")
        #expect(try Self.embed(target, in: work) == Self.embed(LoopbackHub.repository("mistralai/Voxtral-Tiny"), in: work))
    }

    @Test("the network lost mid-pull: a typed error and exit 69; a rerun against another mirror resumes and finishes")
    func networkLoss() throws {
        let hub = try LoopbackHub(["--throttle", "150000"])
        let work = TemporaryDirectory()
        let target = work.file("voxtral")
        let environment = Self.environment.merging(["VOXENC_PULL_PIECE_BYTES": "65536"]) { $1 }
        let worker = try VoxEncProcess.start(["pull", "mistralai/Voxtral-Tiny", "--dir", target, "--endpoint", hub.endpoint,
                                              "--retries", "2"],
                                             stdout: work.file("out"), stderr: work.file("err"), environment: environment)
        #expect(Self.waitForPieces(target, 2))
        hub.stop()
        worker.waitUntilExit()
        let stderr = try String(contentsOfFile: work.file("err"), encoding: .utf8)
        #expect(worker.terminationStatus == 69, "\(stderr)")
        #expect(stderr.hasPrefix("voxenc: error: ") && stderr.contains("connection refused") && stderr.split(separator: "\n").count == 1,
                "\(stderr)")
        #expect(Self.listing(target) == [".voxenc-pull"])

        let mirror = try LoopbackHub()
        let result = try VoxEncProcess.run(["pull", "mistralai/Voxtral-Tiny", "--dir", target, "--endpoint", mirror.endpoint],
                                           environment: environment)
        #expect(result.status == 0 && result.stdout.contains("pieces resumed"), "\(result.stdout) \(result.stderr)")
        #expect(try Self.embed(target, in: work) == Self.embed(LoopbackHub.repository("mistralai/Voxtral-Tiny"), in: work))
    }

    @Test("503s are retried with backoff; tokens reach the hub but never the file host it redirects to")
    func retriesAndTokens() throws {
        let work = TemporaryDirectory()
        let flaky = try LoopbackHub(["--fail-first", "3"])
        let result = try Self.pull(["test/whisper-tiny", "--dir", work.file("a")], hub: flaky)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(flaky.served().filter { $0.status == 503 }.count == 3)

        // A private repository with the token from HF_TOKEN, then from the token file; the file host answers 400 to
        // any request carrying Authorization, as S3 does.
        let hub = try LoopbackHub(["--token", "secret-token"])
        let withVariable = try Self.pull(["test/private", "--dir", work.file("b")], hub: hub, environment: ["HF_TOKEN": "secret-token"])
        #expect(withVariable.status == 0, "\(withVariable.stderr)")
        let tokenFile = work.file("token")
        try "secret-token\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let withFile = try Self.pull(["test/private", "--dir", work.file("c")], hub: hub, environment: ["HF_TOKEN_PATH": tokenFile])
        #expect(withFile.status == 0, "\(withFile.stderr)")
        let withEndpointVariable = try VoxEncProcess.run(
            ["pull", "test/whisper-tiny", "--dir", work.file("d")],
            environment: Self.environment.merging(["HF_ENDPOINT": hub.endpoint]) { $1 })
        #expect(withEndpointVariable.status == 0, "HF_ENDPOINT: \(withEndpointVariable.stderr)")
    }

    struct ErrorCase: CustomTestStringConvertible, Sendable {
        var name: String
        var arguments: [String]
        var environment: [String: String] = [:]
        var status: Int32
        var message: String
        var testDescription: String { name }
    }

    @Test("access and lookup errors: one line naming the repository and what is wrong, a hint, a sysexits code, nothing written",
          arguments: [
            ErrorCase(name: "missing repository, anonymous (the Hub answers 401)", arguments: ["test/nope"], status: 77, message: "401 Unauthorized"),
            ErrorCase(name: "missing repository with a token", arguments: ["test/nope"], environment: ["HF_TOKEN": "secret-token"], status: 66, message: "repository not found"),
            ErrorCase(name: "missing revision", arguments: ["test/whisper-tiny", "--revision", "v9"], status: 66, message: "revision \"v9\" not found"),
            ErrorCase(name: "gated, no token", arguments: ["test/gated"], status: 77, message: "access is gated"),
            ErrorCase(name: "gated, conditions not accepted", arguments: ["test/gated"], environment: ["HF_TOKEN": "secret-token"], status: 77, message: "access is gated"),
            ErrorCase(name: "private, no token", arguments: ["test/private"], status: 77, message: "401 Unauthorized"),
            ErrorCase(name: "not a model", arguments: ["test/not-a-model"], status: 65, message: "not a model repository voxenc reads"),
            ErrorCase(name: "bad repository name", arguments: ["not-a-name"], status: 64, message: "is not a repository name"),
            ErrorCase(name: "bad endpoint", arguments: ["test/whisper-tiny", "--endpoint", "ftp://example"], status: 64, message: "is not an http(s) URL"),
          ])
    func accessErrors(_ error: ErrorCase) throws {
        let hub = try LoopbackHub(["--token", "secret-token"])
        let work = TemporaryDirectory()
        let target = work.file("model")
        let result = try VoxEncProcess.run(["pull", "--endpoint", hub.endpoint] + error.arguments + ["--dir", target],
                                           environment: Self.environment.merging(error.environment) { $1 })
        #expect(result.status == error.status, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("voxenc: error: ") && result.stderr.contains(error.message) && result.stderr.contains("(hint: "),
                "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(Self.listing(target).isEmpty, "\(Self.listing(target))")
        if error.name.hasPrefix("gated, conditions") {
            let accepted = try Self.pull(["test/gated", "--dir", target], hub: hub, environment: ["HF_TOKEN": "accepted-token"])
            #expect(accepted.status == 0, "once accepted: \(accepted.stderr)")
        }
    }

    @Test("a directory that cannot be written, or holds files voxenc pull did not write: exit 73, nothing changed")
    func cannotWrite() throws {
        let hub = try LoopbackHub()
        let work = TemporaryDirectory()
        let file = work.file("a-file")
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        let underFile = try Self.pull(["test/whisper-tiny", "--dir", file + "/model"], hub: hub)
        #expect(underFile.status == 73 && underFile.stderr.contains("cannot write"), "\(underFile.stderr)")

        let mine = work.file("mine")
        try FileManager.default.createDirectory(atPath: mine, withIntermediateDirectories: true)
        try "{}".write(toFile: mine + "/config.json", atomically: true, encoding: .utf8)
        let clash = try Self.pull(["test/whisper-tiny", "--dir", mine], hub: hub)
        #expect(clash.status == 73 && clash.stderr.contains("config.json") && clash.stderr.contains("not written by voxenc pull"),
                "\(clash.stderr)")
        #expect(Self.listing(mine) == ["config.json"])
        #expect(try String(contentsOfFile: mine + "/config.json", encoding: .utf8) == "{}")
    }

    @Test("no server at the endpoint: exit 69 after the retries, naming the URL")
    func noServer() throws {
        let work = TemporaryDirectory()
        let result = try VoxEncProcess.run(["pull", "test/whisper-tiny", "--endpoint", "http://127.0.0.1:9", "--retries", "2",
                                            "--dir", work.file("m")], environment: Self.environment)
        #expect(result.status == 69, "\(result.stderr)")
        #expect(result.stderr.contains("http://127.0.0.1:9/api/models/test/whisper-tiny") && result.stderr.contains("2 attempts"),
                "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work.file("m")))
    }

    struct Lie: CustomTestStringConvertible, Sendable {
        var options: [String]
        var repository = "mistralai/Voxtral-Tiny"
        var message: String
        var testDescription: String { options.joined(separator: " ") + " on " + repository }
    }

    @Test("a server that lies gives an error (exit 76), never a model directory that loads",
          arguments: [
            Lie(options: ["--fault", "wrong-length"], message: "Content-Length"),
            Lie(options: ["--fault", "wrong-range"], message: "Content-Range"),
            Lie(options: ["--fault", "truncate"], message: "ended after"),
            Lie(options: ["--fault", "ignore-range"], message: "the Range was ignored"),
            Lie(options: ["--fault", "bad-etag"], message: "ETag"),
            Lie(options: ["--fault", "bad-etag-listing"], message: "ETag"),
            Lie(options: ["--fault", "bad-etag", "--fault-file", "config.json"], message: "ETag"),
            Lie(options: ["--fault", "swap", "--fault-file", "config.json"], message: "does not match its ETag"),
            Lie(options: ["--fault", "swap", "--fault-file", "model.bin"], repository: "test/ct2-tiny", message: "does not match its ETag"),
            Lie(options: ["--fault", "truncate", "--fault-file", "model.bin"], repository: "test/ct2-tiny", message: "ended after"),
          ])
    func lyingServer(_ lie: Lie) throws {
        let hub = try LoopbackHub(lie.options)
        let work = TemporaryDirectory()
        let target = work.file("model")
        let result = try Self.pull([lie.repository, "--dir", target, "--retries", "2"], hub: hub)
        #expect(result.status == 76, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("voxenc: error: ") && result.stderr.contains(lie.message), "\(result.stderr)")
        let final = Self.listing(target).filter { $0 != ".voxenc-pull" }
        #expect(final.isEmpty, "no final file: \(final)")
        let embed = try VoxEncProcess.run(["embed", Self.speech, "--model", target, "-o", work.file("x.npy")])
        #expect(embed.status != 0, "nothing there loads")
    }
}
