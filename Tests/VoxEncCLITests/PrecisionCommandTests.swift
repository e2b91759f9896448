// `--precision` on `voxenc embed` and `voxenc bench`, run as a user runs them: int8 output close to float32, the
// precision recorded in the sidecar, the AVX2 (no VNNI) kernels, and clear refusals where int8 cannot run.

import Foundation
import Testing
@_spi(Engine) import VoxEnc
import VoxEncModel
import VoxEncAudio
import VoxEncTestSupport

@Suite("voxenc --precision (the real binary)")
struct PrecisionCommandTests {
    static var int8Runs: Bool { (try? Precision.int8.checkSupported()) != nil }
    static let whisper = Fixtures.path("encoder/whisper-tiny-hf")

    static func embed(_ precision: String, _ directory: TemporaryDirectory, environment: [String: String] = [:])
        throws -> (VoxEncProcess.Result, String) {
        let output = directory.file("speech-\(precision)-\(environment.isEmpty ? "native" : "env").npy")
        let result = try VoxEncProcess.run(["embed", EmbedCommandTests.speech, "--model", Self.whisper, "-o", output,
                                            "--precision", precision, "--verbose"], environment: environment)
        return (result, output)
    }

    @Test("embed --precision int8: within the bound of f32, and the sidecar says int8",
          .enabled(if: int8Runs, "int8 cannot run here (no oneDNN or a CPU below AVX2)"))
    func int8Embed() throws {
        let directory = TemporaryDirectory()
        let (float, floatPath) = try Self.embed("f32", directory)
        let (int8, int8Path) = try Self.embed("int8", directory)
        #expect(float.status == 0 && int8.status == 0, "\(float.stderr) \(int8.stderr)")
        let d = Discrepancy(try NumpyArray(contentsOf: int8Path).values, try NumpyArray(contentsOf: floatPath).values)
        // The same computation as Int8EncoderTests' tiny Whisper case, so the same bound, from both sides.
        #expect(d.relativeL2 <= Int8Tolerance.whisperFixtureRelativeL2.here, "\(d)")
        #expect(d.relativeL2 >= Int8Tolerance.minimumRelativeL2, "int8 was not used? \(d)")
        let sidecar = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: String(int8Path.dropLast(4)) + ".json"))) as! [String: Any]
        #expect(sidecar["precision"] as? String == "int8")
        #expect(sidecar["int8_float_layers"] as? Int == 1)
        // The child names the int8 route it ran: the one this process would take, with VNNI's ±127 where it has VNNI.
        let route = try KernelInvarianceTests.route("int8", in: int8.stderr)
        let expected = try #require(GEMMRouting.int8Route)
        #expect(route.backend == expected.backend && route.kernel == expected.kernel, "\(int8.stderr)")
        let levels = try IntegerGEMM.support.get().weightLevels
        #expect(int8.stderr.contains("weights quantised to ±\(levels)"), "\(int8.stderr)")
        RouteCoverage.ran(RouteCoverage.int8)
        let floatSidecar = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: String(floatPath.dropLast(4)) + ".json"))) as! [String: Any]
        #expect(floatSidecar["precision"] as? String == "f32")
        #expect(floatSidecar["int8_float_layers"] == nil)
    }

    @Test("--float-layers: every layer float32 gives f32's bytes; refused without int8 or below 0 (exit 64, one line)",
          .enabled(if: int8Runs, "int8 cannot run here"))
    func floatLayers() throws {
        let directory = TemporaryDirectory()
        let (float, floatPath) = try Self.embed("f32", directory)
        let allFloat = directory.file("all-float.npy")
        let run = try VoxEncProcess.run(["embed", EmbedCommandTests.speech, "--model", Self.whisper, "-o", allFloat,
                                         "--precision", "int8", "--float-layers", "2", "--encoder-only"])
        #expect(float.status == 0 && run.status == 0, "\(run.stderr)")
        // The tiny Whisper has 2 layers and no adapter: with both in float32 nothing is quantised.
        #expect(try NumpyArray(contentsOf: allFloat).values == (try NumpyArray(contentsOf: floatPath).values))
        for extra in [["--float-layers", "1"], ["--precision", "int8", "--float-layers", "-1"]] {
            let refused = try VoxEncProcess.run(["embed", EmbedCommandTests.speech, "--model", Self.whisper, "-o",
                                                 directory.file("refused.npy")] + extra)
            #expect(refused.status == 64, "\(extra): \(refused.stderr)")
            #expect(refused.stderr.contains("--float-layers") && refused.stderr.split(separator: "\n").count == 1,
                    "\(refused.stderr)")
            #expect(!FileManager.default.fileExists(atPath: directory.file("refused.npy")))
        }
    }

    @Test("oneDNN limited to AVX2 (no VNNI): 7-bit weights, no saturation, within the bound of f32",
          .enabled(if: int8Runs, "int8 cannot run here"))
    func avx2Kernels() throws {
        let directory = TemporaryDirectory()
        let (float, floatPath) = try Self.embed("f32", directory)
        let (avx2, avx2Path) = try Self.embed("int8", directory, environment: ["DNNL_MAX_CPU_ISA": "AVX2"])
        #expect(float.status == 0 && avx2.status == 0, "\(avx2.stderr)")
        let d = Discrepancy(try NumpyArray(contentsOf: avx2Path).values, try NumpyArray(contentsOf: floatPath).values)
        #expect(d.relativeL2 <= Int8Tolerance.whisperFixtureRelativeL2.avx2, "\(d)")
        #expect(d.relativeL2 >= Int8Tolerance.minimumRelativeL2, "int8 was not used? \(d)")
        // The variable took effect: the child's own report names an AVX2 kernel and 7-bit weights (no VNNI).
        let route = try KernelInvarianceTests.route("int8", in: avx2.stderr)
        #expect(route.kernel.contains("avx2") && !route.kernel.contains("avx512"), "\(route)")
        #expect(avx2.stderr.contains("weights quantised to ±63"), "\(avx2.stderr)")
        RouteCoverage.ran("int8-avx2(\(route.kernel))")
    }

    @Test("int8 refused in one line, exit 64, nothing written, when oneDNN's CPU level is below AVX2 (here: SSE4.1)")
    func refusedBelowAVX2() throws {
        let directory = TemporaryDirectory()
        for command in [["embed", EmbedCommandTests.speech, "--model", Self.whisper, "-o", directory.file("x.npy")],
                        ["bench", "--preset", "whisper-tiny", "--threads", "1", "--chunks", "1"]] {
            let result = try VoxEncProcess.run(command + ["--precision", "int8"], environment: ["DNNL_MAX_CPU_ISA": "SSE41"])
            #expect(result.status == 64, "\(command[0]): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
            #expect(result.stderr.contains("--precision int8 needs") && result.stderr.contains("--precision f32"),
                    "\(result.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    /// The warning docs/cli.md promises ("A choice that runs generic kernels on a CPU with AVX2 is warned about on
    /// stderr"), as a user sees it: OpenBLAS forced onto its generic Prescott kernels in the child, no --quiet.
    @Test("OpenBLAS on generic kernels (OPENBLAS_CORETYPE=Prescott) where the CPU has AVX2: one warning on stderr, not with --quiet; none on Haswell's kernels")
    func genericKernelWarning() throws {
        try RouteCoverage.require("openblas-generic-warning", CPU.current.vectorLevel >= .avx2,
                                  "the CPU has no AVX2: Prescott's kernels are not slow here, nothing to warn about")
        let directory = TemporaryDirectory()
        func embed(_ coreType: String, _ extra: [String] = []) throws -> VoxEncProcess.Result {
            let result = try VoxEncProcess.run(["embed", EmbedCommandTests.speech, "--model", Self.whisper, "-o",
                                                directory.file("\(coreType)\(extra.count).npy"), "--gemm", "openblas"]
                                               + extra, environment: ["OPENBLAS_CORETYPE": coreType])
            #expect(result.status == 0, "\(result.stderr)")
            return result
        }
        let generic = try embed("Prescott")
        let warnings = generic.stderr.split(separator: "\n").filter { $0.hasPrefix("voxenc: warning: float32 GEMMs run") }
        #expect(warnings.count == 1, "\(generic.stderr)")
        #expect(warnings.first?.contains("OpenBLAS cblas_sgemm with Prescott kernels") == true
                && warnings.first?.contains("expect several times slower") == true, "\(generic.stderr)")
        #expect(!(try embed("Prescott", ["--quiet"]).stderr.contains("warning")))
        #expect(!(try embed("Haswell").stderr.contains("warning: float32 GEMMs")))
        RouteCoverage.ran("openblas-generic-warning")
    }

    @Test("an unknown precision is a usage error")
    func unknownPrecision() throws {
        for command in [["embed", EmbedCommandTests.speech, "--model", Self.whisper], ["bench", "--preset", "whisper-tiny"]] {
            let result = try VoxEncProcess.run(command + ["--precision", "fp16"])
            #expect(result.status == 64 && result.stderr.contains("--precision must be f32, bf16 or int8"), "\(result.stderr)")
        }
    }

    @Test("bench --precision int8 reports int8", .enabled(if: int8Runs, "int8 cannot run here"))
    func benchInt8() throws {
        let result = try VoxEncProcess.run(["bench", "--preset", "whisper-tiny", "--threads", "1", "--chunks", "1",
                                            "--precision", "int8", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(json?["precision"] as? String == "int8" && (json?["secondsPerChunk"] as? Double ?? 0) > 0)
    }

    @Test("embed --precision bf16: within 1 % of f32 and not f32's values; the sidecar says bf16; info lists bf16",
          .enabled(if: Precision.bfloat16.isSupported, "this CPU has no native bf16, or no oneDNN"))
    func bfloat16Embed() throws {
        let directory = TemporaryDirectory()
        let (float, floatPath) = try Self.embed("f32", directory)
        let (half, halfPath) = try Self.embed("bf16", directory)
        #expect(float.status == 0 && half.status == 0, "\(float.stderr) \(half.stderr)")
        let d = Discrepancy(try NumpyArray(contentsOf: halfPath).values, try NumpyArray(contentsOf: floatPath).values)
        #expect(d.relativeL2 <= BFloat16Tolerance.relativeL2 && d.relativeL2 >= BFloat16Tolerance.minimumRelativeL2, "\(d)")
        let sidecar = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: String(halfPath.dropLast(4)) + ".json"))) as! [String: Any]
        #expect(sidecar["precision"] as? String == "bf16")
        let info = try VoxEncProcess.run(["info", "--model", Self.whisper, "--json"])
        let machine = (try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any])?["machine"]
            as? [String: Any]
        #expect((machine?["precisions"] as? [String])?.contains("bf16") == true, "\(info.stdout)")
    }

    /// oneDNN limited to AVX2 (DNNL_MAX_CPU_ISA, in the child only): what a CPU without bf16 gets from oneDNN.
    @Test("--precision bf16 where oneDNN has no bf16 kernels is a usage error with a hint, nothing written",
          .enabled(if: OneDNN.isAvailable, "this build has no oneDNN"))
    func bfloat16Refused() throws {
        let directory = TemporaryDirectory()
        let environment = Precision.bfloat16.isSupported ? ["DNNL_MAX_CPU_ISA": "AVX2"] : [:]
        let (result, path) = try Self.embed("bf16", directory, environment: environment)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("--precision bf16 needs") && result.stderr.contains("hint:"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: path))
        let bench = try VoxEncProcess.run(["bench", "--preset", "whisper-tiny", "--precision", "bf16", "--chunks", "1",
                                           "--threads", "1"], environment: environment)
        #expect(bench.status == 64, "\(bench.stderr)")
    }
}
