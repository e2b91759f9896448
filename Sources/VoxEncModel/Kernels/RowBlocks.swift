// The fixed row blocks every large GEMM runs in: each chunk's rows split into the same blocks wherever the chunk
// sits in its batch and whatever the thread count. A chunk's rows are therefore always computed by the same GEMM
// calls of the same shapes, which makes its output bit-identical across batch compositions and thread counts on
// every BLAS kernel — by construction, not by a property of one kernel (OpenBLAS's Haswell and Prescott kernels
// round differently at different m, docs/architecture.md "Invariance"). Threads take whole blocks.
// Letters: B chunks, R rows per chunk (T = 1500 for the encoder, 375 for the adapter), P blocks per chunk.

#if canImport(Glibc)
import Glibc
#endif

public struct RowBlocks: Sendable, Equatable {
    /// Rows per block aimed at: large enough that a block's GEMM runs near the full-matrix rate (one-thread fc1
    /// shape on AMD Zen 4: 96–104 % of m = 1500 at m = 375, `gemm-rates`), small enough that one chunk gives 4
    /// blocks to share between threads.
    public static let targetRows: Int = {
        // VOXENC_GEMM_BLOCK_ROWS: for benchmarks only (outputs stay invariant for any value; their bits change with it).
        if let text = getenv("VOXENC_GEMM_BLOCK_ROWS"), let value = Int(String(cString: text)), value > 0 { return value }
        return 375
    }()
    static let isOverridden = getenv("VOXENC_GEMM_BLOCK_ROWS") != nil

    /// Rows of one chunk.
    public let rowsPerChunk: Int
    /// Chunks.
    public let chunks: Int
    /// Blocks each chunk is split into, a function of `rowsPerChunk` alone.
    public let blocksPerChunk: Int

    /// `rows` = B·R rows made of chunks of R rows each (R need not divide `rows` when a caller passes arbitrary rows:
    /// then the whole is treated as one chunk).
    public init(rows: Int, rowsPerChunk: Int) {
        if rowsPerChunk > 0 && rows % rowsPerChunk == 0 && rows > 0 {
            self.rowsPerChunk = rowsPerChunk
            chunks = rows / rowsPerChunk
        } else {
            self.rowsPerChunk = rows
            chunks = rows > 0 ? 1 : 0
        }
        blocksPerChunk = Self.blocks(forChunkRows: self.rowsPerChunk)
    }

    /// P for a chunk of R rows: about R / 375, at least 2 so a single chunk still feeds two threads, and never
    /// blocks under 32 rows.
    static func blocks(forChunkRows r: Int) -> Int {
        let nearest = (r + targetRows / 2) / targetRows
        if isOverridden { return max(1, min(nearest, r)) }
        return max(1, min(max(2, nearest), r / 32))
    }

    public var count: Int { chunks * blocksPerChunk }

    /// Rows of block `index`: block i of chunk c is c·R + [R·i / P, R·(i+1) / P).
    public subscript(index: Int) -> Range<Int> {
        let chunk = index / blocksPerChunk, part = index % blocksPerChunk
        let base = chunk * rowsPerChunk
        return (base + rowsPerChunk * part / blocksPerChunk)..<(base + rowsPerChunk * (part + 1) / blocksPerChunk)
    }
}
