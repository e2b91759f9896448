// The options that choose the encoder's arithmetic (--precision, --float-layers, --gemm), declared and checked once
// for `voxenc embed`, `serve` and `bench` through @OptionGroup; and those that spend its cores and memory (--threads,
// --chunks-per-batch: `BatchOptions`, embed and serve; bench sweeps lists of them instead). Their value lists, in
// help and in messages, come from the enums' cases, so a new precision or backend needs no help text edited.

import ArgumentParser
import VoxEnc

struct EngineOptions: ParsableArguments {
    // --precision and --gemm are read as text and checked in validate(): a value the parser refuses itself gets the
    // parser's message ("The value 'fp16' is invalid for …") instead of voxenc's one line naming the choices.
    @Option(name: .customLong("precision"), help: ArgumentHelp(
        listed(Precision.helpOrder.map { "\($0.rawValue) (\($0.helpSummary))" }) + "; docs/precision.md.",
        valueName: "precision"))
    private var precisionArgument = Precision.float32.rawValue

    @Option(name: .customLong("float-layers"), help: """
        With --precision int8: the first N encoder layers stay float32 \
        (default \(EmbedderConfiguration.defaultFloatLayers)). More: closer to f32, slower (docs/precision.md).
        """)
    var floatLayers: Int?

    @Option(name: .customLong("gemm"), help: ArgumentHelp(
        "float32 GEMM backend: \(listed(FloatGEMM.allValueStrings)) "
            + "(default: chosen for this CPU; `voxenc info` says which and why).",
        valueName: "gemm"))
    private var gemmArgument: String?

    /// --precision (validate() has refused any other value).
    var precision: Precision { Precision(argument: precisionArgument)! }

    /// --gemm; nil: the backend chosen for this CPU.
    var gemm: FloatGEMM? { gemmArgument.flatMap(FloatGEMM.init(argument:)) }

    /// The encoder layers that stay float32 under int8: --float-layers, else the library's default.
    var int8FloatLayers: Int { floatLayers ?? EmbedderConfiguration.defaultFloatLayers }

    func validate() throws {
        guard let precision = Precision(argument: precisionArgument) else {
            throw ValidationError("--precision must be \(listed(Precision.allValueStrings)), not \(precisionArgument)")
        }
        if let gemmArgument {
            guard let backend = FloatGEMM(argument: gemmArgument) else {
                throw ValidationError("--gemm must be \(FloatGEMM.allValueStrings.joined(separator: " or ")), not \(gemmArgument)")
            }
            if !backend.isAvailable { throw ValidationError("--gemm \(gemmArgument): this build has no oneDNN (install libdnnl-dev and rebuild)") }
        }
        if let floatLayers {
            if floatLayers < 0 { throw ValidationError("--float-layers must be ≥ 0") }
            if precision != .int8 { throw ValidationError("--float-layers goes with --precision int8") }
        }
    }
}

/// --threads and --chunks-per-batch, for the commands that run one configuration (embed, serve).
struct BatchOptions: ParsableArguments {
    @Option(help: "GEMM threads (default: the number of cores).")
    var threads: Int?

    @Option(name: .customLong("chunks-per-batch"),
            help: "Chunks encoded together in one batch, across files or requests (memory grows with it).")
    var chunksPerBatch: Int = 2

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be ≥ 1") }
        if chunksPerBatch < 1 { throw ValidationError("--chunks-per-batch must be ≥ 1") }
    }

    /// The Embedder's settings from both groups.
    func configuration(_ engine: EngineOptions, kind: EmbeddingKind? = nil) -> EmbedderConfiguration {
        EmbedderConfiguration(threadCount: threads, chunksPerBatch: chunksPerBatch, kind: kind,
                              precision: engine.precision, int8FloatLayers: engine.int8FloatLayers, floatGEMM: engine.gemm)
    }
}

// MARK: - The enums as option values

extension Precision: ExpressibleByArgument {
    /// Every case, f32 (the default) first and then by name: the order voxenc's help and messages have always used.
    static var helpOrder: [Precision] {
        [.float32] + allCases.filter { $0 != .float32 }.sorted { $0.rawValue < $1.rawValue }
    }

    public static var allValueStrings: [String] { helpOrder.map(\.rawValue) }

    /// What the value means, in a few words, for --precision's help. A new case must say it here to compile.
    var helpSummary: String {
        switch self {
        case .float32: return "float32 throughout"
        case .bfloat16: return "bf16 GEMM operands on CPUs with native bf16: AVX512-BF16, AMX"
        case .int8: return "8-bit integer GEMMs via oneDNN: ≈ 2.3× faster, a few % relative L2 from f32"
        }
    }
}

extension FloatGEMM: ExpressibleByArgument {}

/// "a, b or c": how help texts and messages list the values of an option.
private func listed(_ values: [String]) -> String {
    guard let last = values.last, values.count > 1 else { return values.joined() }
    return values.dropLast().joined(separator: ", ") + " or " + last
}
