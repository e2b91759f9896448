// The GEMM routing rule, the CPU detection it reads, and the fixed row blocks that make outputs invariant.

import Foundation
import Testing
@testable import VoxEncModel

@Suite("GEMM routing")
struct GEMMRoutingTests {
    @Test("the rule: oneDNN where its kernels use the CPU's widest vectors, else OpenBLAS where its do; never a generic kernel when oneDNN is there")
    func rule() {
        typealias L = CPU.VectorLevel
        let cases: [(cpu: L, core: String, oneDNN: L?, expected: FloatGEMM)] = [
            (.avx512, "Prescott", .avx512, .oneDNNMatmul),  // Emerald Rapids with Debian 12's OpenBLAS 0.3.21
            (.avx512, "SkylakeX", .avx512, .oneDNNMatmul),  // both fit: oneDNN measured as fast or faster
            (.avx512, "Cooperlake", .avx512, .oneDNNMatmul),
            (.avx512, "SkylakeX", .avx2, .openBLAS),      // DNNL_MAX_CPU_ISA=AVX2 on an AVX-512 CPU
            (.avx512, "Haswell", .avx512, .oneDNNMatmul),   // AVX2 kernels on an AVX-512 CPU
            (.avx2, "Haswell", .avx2, .oneDNN),
            (.avx2, "Zen", nil, .openBLAS),
            (.avx512, "Haswell", .avx2, .openBLAS),       // neither fits: equal levels, OpenBLAS
            (.avx2, "Prescott", .avx2, .oneDNN),
            (.avx2, "Sandybridge", .avx2, .oneDNN),
            (.avx2, "Prescott", nil, .openBLAS),          // a build without oneDNN: nothing better
            (.sse, "Prescott", .sse, .oneDNN),            // both generic: oneDNN still fits the CPU
        ]
        for c in cases {
            // oneDNN 2.6's matmul has brgemm kernels from AVX-512 on ("brg:avx512_core"), gemm-based ones below.
            let matmul = c.oneDNN == .avx512 ? "brg:avx512_core" : "gemm:jit"
            let (backend, reason) = GEMMRouting.choose(
                cpu: c.cpu, openBLAS: (c.core, OpenBLAS.vectorLevel(core: c.core)),
                oneDNN: c.oneDNN.map { ("isa", $0, matmul) })
            #expect(backend == c.expected, "\(c): \(reason)")
            #expect(!reason.isEmpty)
        }
    }

    @Test("OpenBLAS core names map to their kernels' vector level")
    func coreNames() {
        #expect(OpenBLAS.vectorLevel(core: "Prescott") == .sse)
        #expect(OpenBLAS.vectorLevel(core: "NEHALEM") == .sse)
        #expect(OpenBLAS.vectorLevel(core: "Sandybridge") == .avx)
        #expect(OpenBLAS.vectorLevel(core: "Haswell") == .avx2)
        #expect(OpenBLAS.vectorLevel(core: "Zen") == .avx2)
        #expect(OpenBLAS.vectorLevel(core: "SkylakeX") == .avx512)
        #expect(OpenBLAS.vectorLevel(core: "SapphireRapids") == .avx512)
    }

    /// VOXENC_GEMM forces a backend (development, benchmarks): then the automatic choice is not what runs.
    static let automatic = getenv("VOXENC_GEMM") == nil

    @Test("on this CPU the float32 GEMMs never run a generic kernel where the CPU has AVX2",
          .enabled(if: automatic, "VOXENC_GEMM forces a backend in this environment"))
    func noGenericKernel() {
        let cpu = CPU.current.vectorLevel
        let backend = GEMMRouting.float32
        let level = backend.vectorLevel ?? .sse
        #expect(level >= min(cpu, .avx2), "\(backend) runs \(backend.kernel) (\(level)) on a \(cpu) CPU")
        #expect(!GEMMRouting.isSlow(backend))
        #expect(GEMMRouting.warnings().isEmpty)
    }

    // The generic-kernel warning is observed as a user sees it, in a child with OPENBLAS_CORETYPE=Prescott:
    // PrecisionCommandTests.genericKernelWarning.

    @Test("CPUID features agree with the kernel's own reading (/proc/cpuinfo flags)")
    func cpuFeaturesMatchProcCpuinfo() throws {
        let text = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("flags") })
        let flags = Set(line.split(separator: ":")[1].split(separator: " ").map(String.init))
        // Linux spells SSE3 "pni"; the others as voxenc does.
        for feature in ["avx", "fma", "avx2", "avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512_vnni",
                        "avx512_bf16", "avx_vnni", "amx_tile", "amx_bf16", "amx_int8"] {
            #expect(CPU.current.has(feature) == flags.contains(feature), "\(feature)")
        }
        #expect(CPU.current.has("sse3") == flags.contains("pni"))
        let vendor = text.split(separator: "\n").first { $0.hasPrefix("vendor_id") }?.split(separator: ":").last
        #expect(vendor.map { $0.trimmingCharacters(in: .whitespaces) } == CPU.current.vendor)
    }
}

@Suite("Row blocks")
struct RowBlocksTests {
    @Test("a chunk's blocks are the same wherever it sits in the batch; blocks cover every row once",
          arguments: [1500, 375, 3000, 64, 33, 7, 1])
    func chunkRelative(rowsPerChunk: Int) {
        let alone = RowBlocks(rows: rowsPerChunk, rowsPerChunk: rowsPerChunk)
        let own = (0..<alone.count).map { alone[$0] }
        for chunks in 1...4 {
            let batch = RowBlocks(rows: chunks * rowsPerChunk, rowsPerChunk: rowsPerChunk)
            #expect(batch.count == chunks * alone.count)
            var covered = [Int](repeating: 0, count: chunks * rowsPerChunk)
            for index in 0..<batch.count {
                let block = batch[index]
                let chunk = block.lowerBound / rowsPerChunk
                let relative = (block.lowerBound - chunk * rowsPerChunk)..<(block.upperBound - chunk * rowsPerChunk)
                #expect(own.contains(relative), "block \(block) of chunk \(chunk)")
                for r in block { covered[r] += 1 }
            }
            #expect(covered.allSatisfy { $0 == 1 })
        }
        #expect(own.allSatisfy { !$0.isEmpty })
    }

    @Test("block sizes: 4 per 1500-row chunk, 2 per adapter chunk, none under 32 rows")
    func sizes() {
        #expect(RowBlocks(rows: 1500, rowsPerChunk: 1500).blocksPerChunk == 4)
        #expect(RowBlocks(rows: 3000, rowsPerChunk: 3000).blocksPerChunk == 8)
        #expect(RowBlocks(rows: 750, rowsPerChunk: 375).blocksPerChunk == 2)
        #expect(RowBlocks(rows: 40, rowsPerChunk: 40).blocksPerChunk == 1)
        // Rows that are not whole chunks are one chunk.
        #expect(RowBlocks(rows: 10, rowsPerChunk: 3).chunks == 1)
    }
}

@Suite("Thread budget")
struct ThreadBudgetTests {
    @Test("the budget belongs to the call: bound inside withThreads, 1 outside and on its workers, independent across tasks")
    func budgetIsPerCall() async {
        #expect(Parallel.threadCount == 1)
        let seen = Parallel.withThreads(3) { () -> (Int, [Int]) in
            var inner = [Int](repeating: 0, count: 3)
            inner.withUnsafeMutableBufferPointer { inner in
                let box = UncheckedSendable(inner.baseAddress!)
                Parallel.forEachRange(3) { range in for i in range { box.value[i] = Parallel.threadCount } }
            }
            return (Parallel.threadCount, inner)
        }
        #expect(seen.0 == 3)
        #expect(seen.1 == [1, 1, 1], "workers run nested loops serially")
        #expect(Parallel.threadCount == 1)
        // Two concurrent callers with different budgets each see their own.
        async let a = Task { Parallel.withThreads(2) { (0..<200).map { _ in Parallel.threadCount } } }.value
        async let b = Task { Parallel.withThreads(5) { (0..<200).map { _ in Parallel.threadCount } } }.value
        let (x, y) = await (a, b)
        #expect(x.allSatisfy { $0 == 2 } && y.allSatisfy { $0 == 5 })
    }
}
