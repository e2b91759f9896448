// A model directory as its family describes it without loading it (`voxenc info`): every part is read, counted and
// dropped, so describing Voxtral Mini holds one layer, not 2.5 GB.

public struct ModelSummary: Sendable {
    /// The family that recognised the directory ("whisper").
    public var family: String
    public var description: ModelDescription
    /// float32 bytes of the weights (positional table included), as a float32 load would hold them.
    public var floatBytes: Int
    /// Activations one step of audio needs at `threads` threads (the session's workspace), in bytes.
    public var activationBytesPerStep: Int
    /// For a causal model: the state each live stream holds (its key/value rings), in bytes; nil otherwise.
    public var streamStateBytes: Int?
    /// The encoder's rows, and the adapter's when the model has one.
    public var encoderOutput: OutputGeometry
    public var adapterOutput: OutputGeometry?

    public init(family: String, description: ModelDescription, floatBytes: Int, activationBytesPerStep: Int,
                encoderOutput: OutputGeometry, adapterOutput: OutputGeometry?, streamStateBytes: Int? = nil) {
        self.family = family
        self.description = description
        self.floatBytes = floatBytes
        self.activationBytesPerStep = activationBytesPerStep
        self.encoderOutput = encoderOutput
        self.adapterOutput = adapterOutput
        self.streamStateBytes = streamStateBytes
    }
}
