// The build holds every route the README promises: the CLI's own report (`voxenc info --json`, "compiled_routes"
// and "kernel_copies") must list oneDNN's routes (dnnl_sgemm, the packed float32 matmul, bf16, int8) unless the build
// was made without oneDNN on purpose (VOXENC_ONEDNN=0, which `swift test` passes to the build and to this process
// alike). A build that lost oneDNN some other way — the header moved, a manifest edit — fails here, and so fails CI,
// instead of passing with those routes untested. Package.swift already stops a build on x86-64 Linux without the
// header; this is the second line, on what was actually compiled.

import Foundation
import Testing
import VoxEncModel
import VoxEncTestSupport

@Suite("The build holds every route (voxenc info --json)")
struct BuildRoutesTests {
    static let oneDNNRefused = ProcessInfo.processInfo.environment["VOXENC_ONEDNN"] == "0"

    static func machine() throws -> [String: Any] {
        let info = try VoxEncProcess.run(["info", "--model", Fixtures.path("encoder/whisper-tiny-hf"), "--json"])
        #expect(info.status == 0, "\(info.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any])
        return try #require(json["machine"] as? [String: Any], "\(info.stdout)")
    }

    @Test("compiled_routes: OpenBLAS, and oneDNN's dnnl_sgemm, packed float32, bf16 and int8 unless VOXENC_ONEDNN=0")
    func compiledRoutes() throws {
        let routes = try #require(try Self.machine()["compiled_routes"] as? [String])
        let expected = Self.oneDNNRefused ? ["openblas"] : ["openblas", "onednn", "onednn-matmul", "bf16", "int8"]
        let why = Self.oneDNNRefused ? "built with VOXENC_ONEDNN=0"
            : "oneDNN's routes are missing from this build: install libdnnl-dev and rebuild, or set VOXENC_ONEDNN=0 on purpose"
        #expect(routes == expected, Comment(rawValue: why))
        print("voxenc build: GEMM routes \(routes.joined(separator: " "))\(Self.oneDNNRefused ? " (VOXENC_ONEDNN=0)" : "")")
    }

    @Test("kernel_copies: avx512, avx2 and sse2 built on x86-64; the ones this CPU runs, as CPUID says; the one running")
    func kernelCopies() throws {
        let copies = try #require(try Self.machine()["kernel_copies"] as? [String: Any])
        #if arch(x86_64)
        #expect(copies["compiled"] as? [String] == ["avx512", "avx2", "sse2"], "\(copies)")
        #endif
        // Which copies this CPU runs, from the kernel's reading of CPUID (/proc/cpuinfo), not from voxenc's.
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let line = try #require(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") })
        let flags = Set(line.split(separator: ":")[1].split(separator: " ").map(String.init))
        let avx2 = flags.isSuperset(of: ["avx2", "fma"])
        let avx512 = avx2 && flags.isSuperset(of: ["avx512f", "avx512bw", "avx512dq", "avx512vl"])
        let runnable = (avx512 ? ["avx512"] : []) + (avx2 ? ["avx2"] : []) + ["sse2"]
        #expect(copies["runnable"] as? [String] == runnable, "\(copies)")
        // The child runs the best of them unless VOXENC_KERNEL_ISA (inherited from this process) lowers it.
        if ProcessInfo.processInfo.environment["VOXENC_KERNEL_ISA"] == nil {
            #expect(copies["running"] as? String == runnable[0], "\(copies)")
        }
    }
}
