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
        // --verbose: each child names the GEMM route and kernel it took (its own report, below).
        let route = ["--model", model, "--gemm", gemm.rawValue, "--precision", precision.rawValue, "--quiet", "--verbose"]
        var reports: [String] = []

        for (threads, out) in [(2, "two"), (1, "one")] {
            let run = try VoxEncProcess.run(["embed", "--manifest", manifest, "--output-dir", directory.file(out),
                                             "--threads", "\(threads)", "--chunks-per-batch", "3"] + route,
                                            environment: environment)
            #expect(run.status == 0, "\(run.stderr)")
            reports.append(run.stderr)
        }
        try FileManager.default.createDirectory(atPath: directory.file("alone"), withIntermediateDirectories: true)
        for (name, _, _) in files {
            let alone = directory.file("alone/\(name).npy")
            let run = try VoxEncProcess.run(["embed", directory.file(name + ".wav"), "-o", alone, "--threads", "2"]
                                            + route, environment: environment)
            #expect(run.status == 0, "\(run.stderr)")
            reports.append(run.stderr)
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
        // The route really ran: every child names the backend and kernel it used (embed --verbose), and they are
        // the ones asked for.
        let kernels = try reports.map { try Self.route(precision == .bfloat16 ? "bf16" : "f32", in: $0) }
        let expectedBackend = precision == .bfloat16 ? "oneDNN matmul, bf16 operands" : Self.backendNames[gemm]!
        let expectedKernel: String? = precision == .bfloat16 ? OneDNN.bfloat16MatmulImplementation : (coreType ?? gemm.kernel)
        for kernel in kernels {
            #expect(kernel.backend == expectedBackend && kernel.kernel == expectedKernel,
                    "asked for \(gemm) \(coreType ?? "") \(precision), the child ran \(kernel)")
        }
        if let kernel = kernels.first, kernels.allSatisfy({ $0 == kernel }), kernel.kernel == expectedKernel {
            RouteCoverage.ran(precision == .bfloat16 ? "bf16(\(kernel.kernel))" : "\(gemm.rawValue)(\(kernel.kernel))")
        }
    }

    static let backendNames: [FloatGEMM: String] = [.openBLAS: "OpenBLAS cblas_sgemm", .oneDNN: "oneDNN dnnl_sgemm",
                                                    .oneDNNMatmul: "oneDNN matmul, packed weights"]

    /// The route a child's `--verbose` stderr names for `precision`: "voxenc: f32 GEMM BACKEND (KERNEL): why".
    static func route(_ precision: String, in stderr: String) throws -> Route {
        let line = try #require(stderr.split(separator: "\n").first { $0.hasPrefix("voxenc: \(precision) GEMM ") },
                                "no \(precision) route in the child's report: \(stderr)")
        let match = try #require(line.firstMatch(of: #/GEMM (.+) \(([^()]+)\)(, [^:]*)?: /#), "\(line)")
        return Route(backend: String(match.1), kernel: String(match.2))
    }

    struct Route: Equatable, CustomStringConvertible {
        var backend: String
        var kernel: String
        var description: String { "\(backend) (\(kernel))" }
    }

    // One test per route; a route this build or CPU cannot run is skipped with the reason (RouteCoverage.require).
    @Test("oneDNN dnnl_sgemm")
    func oneDNN() throws {
        try RouteCoverage.require(.oneDNN)
        try Self.check(gemm: .oneDNN)
    }

    @Test("oneDNN matmul on packed weights")
    func oneDNNMatmul() throws {
        try RouteCoverage.require(.oneDNNMatmul)
        try Self.check(gemm: .oneDNNMatmul)
    }

    @Test("bf16 (oneDNN matmul, bf16 operands)")
    func bfloat16() throws {
        try RouteCoverage.requireBFloat16()
        try Self.check(gemm: .oneDNNMatmul, precision: .bfloat16)
    }

    @Test("OpenBLAS with the kernel it picks for this CPU")
    func openBLASNative() throws { try Self.check(gemm: .openBLAS) }

    @Test("OpenBLAS Prescott kernels (SSE3: what CPUs newer than the library get)")
    func openBLASPrescott() throws { try Self.check(gemm: .openBLAS, coreType: "Prescott") }

    @Test("OpenBLAS Haswell kernels (AVX2: what AMD Zen gets)")
    func openBLASHaswell() throws {
        try RouteCoverage.require("openblas(Haswell)", Self.cpu >= .avx2, "the CPU has no AVX2")
        try Self.check(gemm: .openBLAS, coreType: "Haswell")
    }

    @Test("OpenBLAS SkylakeX kernels (AVX-512)")
    func openBLASSkylakeX() throws {
        try RouteCoverage.require("openblas(SkylakeX)", Self.cpu >= .avx512, "the CPU has no AVX-512")
        try Self.check(gemm: .openBLAS, coreType: "SkylakeX")
    }
}
