// The shape of a model's output in time: how many rows each step of audio gives, and how wide they are. The engine
// computes rates, start times and valid rows from it, never from a family's constants.

public struct OutputGeometry: Sendable, Equatable {
    /// Values per row (Dt for the adapter, D for the encoder).
    public var width: Int
    /// Rows one step gives (Whisper: 1500 encoder rows or 375 adapter rows per 30 s chunk).
    public var rowsPerStep: Int
    /// Seconds of audio one step covers (Whisper: 30).
    public var stepSeconds: Double

    public init(width: Int, rowsPerStep: Int, stepSeconds: Double) {
        self.width = width
        self.rowsPerStep = rowsPerStep
        self.stepSeconds = stepSeconds
    }

    /// Rows per second of audio (Whisper: 50 Hz encoder, 12.5 Hz adapter).
    public var rowsPerSecond: Double { Double(rowsPerStep) / stepSeconds }
    /// Floats per step.
    public var valuesPerStep: Int { rowsPerStep * width }
}
