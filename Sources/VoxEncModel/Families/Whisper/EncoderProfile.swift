// Optional per-stage timing of the encoder (benchmarks, `--verbose`): seconds accumulated per stage.
// Timing costs two clock reads per stage per layer; without a profile nothing is measured.

#if canImport(Glibc)
import Glibc
#endif

public final class EncoderProfile: @unchecked Sendable {  // one encode at a time writes it
    public enum Stage: String, CaseIterable, Sendable {
        /// conv1, conv2 (im2col + GEMM), their GELUs and the positions.
        case convolutionStem = "conv stem"
        /// q·kᵀ, softmax, P·v for every head.
        case attention
        /// Fused QKV and out_proj GEMMs (out_proj with its bias).
        case projections
        /// fc1 (with its bias and GELU, fused into one pass) and fc2 with its bias.
        case mlp = "MLP"
        /// LayerNorms, QKV's bias with the q scaling.
        case normsAndActivations = "norms/activations"
    }

    public private(set) var seconds: [Stage: Double] = [:]

    public init() {}

    public func reset() { seconds = [:] }

    @inline(__always)
    static func now() -> Double { MonotonicClock.seconds() }

    @inline(__always)
    func add(_ stage: Stage, since start: Double) -> Double {
        let end = Self.now()
        seconds[stage, default: 0] += end - start
        return end
    }
}

extension Optional where Wrapped == EncoderProfile {
    /// Ends the current stage (when profiling) and returns the new start time.
    @inline(__always)
    func mark(_ stage: EncoderProfile.Stage, _ start: Double) -> Double {
        guard let profile = self else { return 0 }
        return profile.add(stage, since: start)
    }
    @inline(__always)
    var start: Double { self == nil ? 0 : EncoderProfile.now() }
}
