// One timings type for the library, `voxenc embed --verbose` and the benchmarks.

import VoxEncModel

public struct Timings: Sendable, Equatable, Codable {
    /// Decode + resample (seconds).
    public var decode: Double = 0
    /// Log-mel over the whole audio.
    public var mel: Double = 0
    /// Encoder (conv stem + layers + final LayerNorm), all chunks.
    public var encoder: Double = 0
    /// Adapter, all chunks.
    public var adapter: Double = 0
    /// Audio duration (seconds).
    public var audioSeconds: Double = 0

    public init() {}

    public var total: Double { decode + mel + encoder + adapter }
    /// Seconds of audio per second of compute.
    public var realTimeFactor: Double { total > 0 ? audioSeconds / total : 0 }
}

/// Monotonic seconds.
@inline(__always)
func now() -> Double { MonotonicClock.seconds() }
