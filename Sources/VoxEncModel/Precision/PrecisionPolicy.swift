// The one value that answers "which arithmetic here?" for a load: for each layer and role, the kernel and its
// operand type; for attention, the operands of its two products; which workspace buffers that needs. Made and
// validated once per load (the only `checkSupported`); family code asks it and never switches on `Precision`.
// After mlx-swift-lm's `quantize(model:) { path, module in … }` (MLXLMCommon/Load.swift): precision is applied to a
// model from outside, by one policy. Adding a precision: a `Precision` case, its answers here, its kernels
// (docs/architecture.md "Adding a precision").

/// Where in a model a Linear (GEMM) runs: the conv stem, an encoder layer, or the adapter.
public enum LinearSite: Sendable, Equatable {
    case stem
    case layer(Int)
    case adapter
}

/// What a Linear runs as: float32 or bf16 operands on a GEMM route, or int8 weights with `levels` levels.
public enum LinearChoice: Sendable, Equatable {
    case route(LinearRoute)
    case int8(levels: Int)
}

/// The operand type of attention's two products (q·kᵀ and P·v).
public enum AttentionOperands: Sendable, Equatable {
    case float32
    case bfloat16
}

public struct PrecisionPolicy: Sendable, Equatable {
    public let precision: Precision
    /// Encoder layers at the bottom of the stack kept wholly float32 — Linear layers and attention — because every
    /// layer after them amplifies their rounding error (docs/precision.md). int8: configurable (default 1); bf16:
    /// `defaultFloatLayers`; float32: every layer is float32 anyway.
    public let floatLayers: Int
    /// The float32 route (GEMMRouting): float32 layers, and float32 attention's products of two activations.
    public let gemm: FloatGEMM
    /// int8: the weights' levels (127 with VNNI, 63 without); nil otherwise.
    public let int8Levels: Int?

    /// The float32 layers of int8 and bf16 unless asked otherwise: the first layer, whose rounding error every later
    /// layer amplifies (the error each choice adds, measured: docs/precision.md).
    public static let defaultFloatLayers = 1

    /// Checks that `precision` runs here (oneDNN built in, the CPU's instructions) and fixes every answer.
    public init(precision: Precision, floatLayers: Int = defaultFloatLayers,
                gemm: FloatGEMM = GEMMRouting.float32) throws(PrecisionError) {
        try precision.checkSupported()
        self.precision = precision
        self.gemm = gemm
        switch precision {
        case .float32: self.floatLayers = 0
        case .int8: self.floatLayers = max(0, floatLayers)
        case .bfloat16: self.floatLayers = Self.defaultFloatLayers
        }
        int8Levels = precision == .int8 ? try IntegerGEMM.support.get().weightLevels : nil
    }

    /// float32: needs nothing of the CPU, so it cannot fail.
    public static func float32(gemm: FloatGEMM = GEMMRouting.float32) -> PrecisionPolicy {
        try! PrecisionPolicy(precision: .float32, gemm: gemm)
    }

    /// The kernel of a Linear at `site`: int8 above the float layers and in the adapter (int8's stem stays float32);
    /// bf16 operands everywhere but the float layers; float32 on the chosen route otherwise.
    public func linear(at site: LinearSite) -> LinearChoice {
        let floatRoute = GEMMRouting.linearRoute(precision: .float32, gemm: gemm)
        let route = GEMMRouting.linearRoute(precision: precision, gemm: gemm)
        switch site {
        case .stem:
            return .route(precision == .int8 ? floatRoute : route)
        case .layer(let index) where index < floatLayers:
            return .route(floatRoute)
        case .layer, .adapter:
            if let levels = int8Levels { return .int8(levels: levels) }
            return .route(route)
        }
    }

    /// Attention's operands in layer `index`: bf16 above the float layers with bf16, float32 otherwise.
    public func attention(layer index: Int) -> AttentionOperands {
        precision == .bfloat16 && index >= floatLayers ? .bfloat16 : .float32
    }

    /// Whether some layer's attention takes bf16 operands (the workspace then holds q | k | v rounded to bf16).
    public var attentionUsesBFloat16: Bool { precision == .bfloat16 }
    /// Whether some Linear runs int8 (the workspace then holds the activations' quantisation buffers).
    public var quantisesActivations: Bool { int8Levels != nil }
}
