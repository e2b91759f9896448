// Outputs invariant on every GEMM route the code can take, through the CLI as a batch job runs it: a 5-file
// manifest (chunks of different files sharing encoder batches) at 2 and at 1 thread, and each file embedded alone,
// must give the same bytes. Bit-identity used to be a property of one OpenBLAS kernel (SkylakeX); Prescott's and
// Haswell's kernels round differently at different row counts, so every route is driven here explicitly:
// oneDNN, and OpenBLAS with each kernel set this CPU can execute. OpenBLAS chooses its kernel set once, when it is
// loaded, and only from OPENBLAS_CORETYPE: the child processes get it in their environment — the one way to
// reproduce here what other CPUs get (Prescott on CPUs newer than the library, Haswell on AMD Zen), never set for
// the test run itself.

import Foundation
import Testing
@_spi(Engine) import VoxEnc
import VoxEncModel
import VoxEncAudio
import VoxEncTestSupport

@Suite("Invariance on every GEMM route (CLI)")
struct KernelInvarianceTests {
    static let model = Fixtures.path("encoder/voxtral-tiny-hf")
    static let cpu = CPU.current.vectorLevel

    /// Runs the invariance check on one route; `coreType` pins OpenBLAS's kernel set in the child processes.
    static func check(gemm: FloatGEMM, coreType: String? = nil, precision: Precision = .float32) throws {
        let directory = TemporaryDirectory()
        // Lengths around chunk boundaries, rates that need resampling: 1, 2, 3, 1 and 1 chunks.
        let files: [(String, Double, Int)] = [("a", 7.2, 16000), ("b", 31.0, 22050), ("c", 65.3, 16000),
                                              ("d", 0.4, 44100), ("e", 30.0, 16000)]
        var lines: [String] = []
        for (index, (name, seconds, rate)) in files.enumerated() {
            let path = directory.file(name + ".wav")
            try TestAudioWriter.write(Signals.speechLike(count: Int(seconds * Double(rate)), seed: 40 + index),
                                      channels: 1, sampleRate: rate, format: .wavFloat, to: path)
            lines.append("{\"id\": \"\(name)\", \"path\": \"\(path)\"}")
        }
        let manifest = directory.file("manifest.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(toFile: manifest, atomically: true, encoding: .utf8)
        var environment: [String: String] = [:]
        if let coreType { environment["OPENBLAS_CORETYPE"] = coreType }
        let route = ["--model", model, "--gemm", gemm.rawValue, "--precision", precision.rawValue, "--quiet"]

        for (threads, out) in [(2, "two"), (1, "one")] {
            let run = try VoxEncProcess.run(["embed", "--manifest", manifest, "--output-dir", directory.file(out),
                                             "--threads", "\(threads)", "--chunks-per-batch", "3"] + route,
                                            environment: environment)
            #expect(run.status == 0, "\(run.stderr)")
        }
        try FileManager.default.createDirectory(atPath: directory.file("alone"), withIntermediateDirectories: true)
        for (name, _, _) in files {
            let alone = directory.file("alone/\(name).npy")
            let run = try VoxEncProcess.run(["embed", directory.file(name + ".wav"), "-o", alone, "--threads", "2"]
                                            + route, environment: environment)
            #expect(run.status == 0, "\(run.stderr)")
            let expected = try Data(contentsOf: URL(fileURLWithPath: alone))
            #expect(expected.count > 128, "\(name): an embedding was written")
            for out in ["two", "one"] {
                let written = try Data(contentsOf: URL(fileURLWithPath: directory.file("\(out)/\(name).npy")))
                if written != expected {
                    let a = try NumpyArray(contentsOf: directory.file("\(out)/\(name).npy"))
                    let b = try NumpyArray(contentsOf: alone)
                    let difference = Discrepancy(a.values, b.values)
                    Issue.record("\(gemm) \(coreType ?? "native") \(name), batch job (\(out) thread) vs alone: \(difference)")
                }
            }
        }
        // The route really ran: `info` names the backend and kernel the children used.
        let info = try VoxEncProcess.run(["info", "--model", model, "--json"], environment: environment)
        #expect(info.status == 0, "\(info.stderr)")
        if let coreType { #expect(info.stdout.contains("\"openblas_core\":\"\(coreType)\""), "\(info.stdout)") }
    }

    @Test("oneDNN dnnl_sgemm", .enabled(if: OneDNN.isAvailable, "this build has no oneDNN"))
    func oneDNN() throws { try Self.check(gemm: .oneDNN) }

    @Test("oneDNN matmul on packed weights", .enabled(if: OneDNN.isAvailable, "this build has no oneDNN"))
    func oneDNNMatmul() throws { try Self.check(gemm: .oneDNNMatmul) }

    @Test("bf16 (oneDNN matmul, bf16 operands)",
          .enabled(if: Precision.bfloat16.isSupported, "this CPU has no native bf16, or no oneDNN"))
    func bfloat16() throws { try Self.check(gemm: .oneDNNMatmul, precision: .bfloat16) }

    @Test("OpenBLAS with the kernel it picks for this CPU")
    func openBLASNative() throws { try Self.check(gemm: .openBLAS) }

    @Test("OpenBLAS Prescott kernels (SSE3: what CPUs newer than the library get)")
    func openBLASPrescott() throws { try Self.check(gemm: .openBLAS, coreType: "Prescott") }

    @Test("OpenBLAS Haswell kernels (AVX2: what AMD Zen gets)", .enabled(if: cpu >= .avx2, "the CPU has no AVX2"))
    func openBLASHaswell() throws { try Self.check(gemm: .openBLAS, coreType: "Haswell") }

    @Test("OpenBLAS SkylakeX kernels (AVX-512)", .enabled(if: cpu >= .avx512, "the CPU has no AVX-512"))
    func openBLASSkylakeX() throws { try Self.check(gemm: .openBLAS, coreType: "SkylakeX") }
}
