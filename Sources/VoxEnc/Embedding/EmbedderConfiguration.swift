// Settings of an Embedder, fixed when it is made.

import VoxEncModel

public struct EmbedderConfiguration: Sendable, Equatable {
    /// Threads one call of this Embedder uses (GEMM row blocks, attention heads, element-wise loops). The budget is
    /// this Embedder's alone: others in the same process keep theirs. Default: the number of online cores.
    /// Threads × concurrent callers should not exceed the cores. Outputs do not depend on it (RowBlocks).
    public var threadCount: Int
    /// Chunks encoded together in one batch (one GEMM over all their rows). Default 2: each batch streams the
    /// weights from memory once, which made 2 per batch a little faster per chunk than 1; each chunk of a batch adds
    /// its activations (the measurements: docs/performance.md, "chunks per batch").
    public var chunksPerBatch: Int
    /// `.adapter` when the model has one; `.encoder` forces encoder states.
    public var kind: EmbeddingKind?
    /// The large GEMMs' arithmetic: float32 (default, the reference's), bf16 or int8 — faster, a little away from
    /// float32 (speed and error measured: docs/precision.md, docs/performance.md). bf16 and int8 make
    /// `Embedder.init` throw where they cannot run.
    public var precision: Precision
    /// With `.int8`: encoder layers kept in float32 from the bottom of the stack (default 1: the first layer, whose
    /// error the others amplify). More are closer to f32 and slower (docs/precision.md); the layer count keeps all.
    public var int8FloatLayers: Int
    /// The float32 GEMM backend; nil lets GEMMRouting choose for this CPU (the default; VOXENC_GEMM overrides it).
    /// Set it to compare backends or to drive one in a test.
    public var floatGEMM: FloatGEMM?

    /// The encoder layers int8 keeps in float32 unless asked otherwise: the first (docs/precision.md).
    public static let defaultFloatLayers = PrecisionPolicy.defaultFloatLayers

    public init(threadCount: Int? = nil, chunksPerBatch: Int = 2, kind: EmbeddingKind? = nil,
                precision: Precision = .float32, int8FloatLayers: Int = PrecisionPolicy.defaultFloatLayers,
                floatGEMM: FloatGEMM? = nil) {
        self.floatGEMM = floatGEMM
        self.threadCount = max(1, threadCount ?? MachineSummary.onlineCores)
        self.chunksPerBatch = max(1, chunksPerBatch)
        self.kind = kind
        self.precision = precision
        self.int8FloatLayers = max(0, int8FloatLayers)
    }
}
