// One caller's run state for a WhisperModel: the encoder's workspace (llama2.c's RunState) and the buffers around it
// — the encoder states the adapter reads, the adapter's hidden rows, int8's quantisation scratch. Owned by one thread
// at a time (the Embedder's pool hands it out); buffers grow on first use, then are reused.
// Letters: B chunks, T = 1500, D width, Dt adapter width.

public final class WhisperSession: EncoderSession, @unchecked Sendable {
    let model: WhisperModel
    let workspace: EncoderWorkspace
    private var statesBuffer = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
    private var scratchBuffer = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
    private var adapterQuantisation: QuantisationScratch?

    init(model: WhisperModel, capacity: Int, threads: Int) {
        self.model = model
        workspace = EncoderWorkspace(configuration: model.encoder.configuration, capacity: capacity, threads: threads,
                                     policy: model.policy)
    }

    deinit {
        statesBuffer.deallocate()
        scratchBuffer.deallocate()
    }

    public var capacity: Int { workspace.capacity }

    /// B chunks of mel [M, 2T] → encoder states [B·T, D], or through the adapter → [B·T/4, Dt].
    public func encode(mel: UnsafePointer<Float>, steps chunkCount: Int, kind: EmbeddingKind,
                       into output: UnsafeMutablePointer<Float>) -> (encoder: Double, adapter: Double) {
        let t = model.encoder.configuration.maxPositions
        var start = MonotonicClock.seconds()
        guard let adapter = model.adapter, kind == .adapter else {
            model.encoder.encode(mel: mel, chunkCount: chunkCount, workspace: workspace, into: output)
            return (MonotonicClock.seconds() - start, 0)
        }
        let states = ensure(&statesBuffer, count: chunkCount * t * model.encoder.configuration.modelDimension)
        model.encoder.encode(mel: mel, chunkCount: chunkCount, workspace: workspace, into: states)
        let encoderSeconds = MonotonicClock.seconds() - start
        start = MonotonicClock.seconds()
        apply(adapter, states: states, frames: chunkCount * t, into: output)
        return (encoderSeconds, MonotonicClock.seconds() - start)
    }

    /// Encoder states [rows, D], rows a multiple of T → [rows / 4, Dt].
    public func adapt(states: UnsafePointer<Float>, rows: Int, into output: UnsafeMutablePointer<Float>) {
        guard let adapter = model.adapter else { preconditionFailure("a Whisper encoder has no adapter") }
        apply(adapter, states: states, frames: rows, into: output)
    }

    private func apply(_ adapter: Adapter, states: UnsafePointer<Float>, frames: Int,
                       into output: UnsafeMutablePointer<Float>) {
        let a = adapter.weights.configuration
        adapter.apply(encoderStates: states, frames: frames, chunkFrames: model.encoder.configuration.maxPositions,
                      scratch: ensure(&scratchBuffer, count: frames / a.stackFactor * a.outputDimension),
                      quantisation: adapter.quantised == nil ? nil : quantisation(adapter.quantisationShape(frames: frames)),
                      into: output)
    }

    /// The int8 adapter's buffers: the encoder's when they fit (the encoder is done by then), else made once.
    private func quantisation(_ shape: (rows: Int, inputWidth: Int, outputWidth: Int)) -> QuantisationScratch {
        for scratch in [workspace.quantisation, adapterQuantisation].compactMap({ $0 })
        where scratch.fits(rows: shape.rows, inputWidth: shape.inputWidth, outputWidth: shape.outputWidth) {
            return scratch
        }
        let scratch = QuantisationScratch(rows: shape.rows, inputWidth: shape.inputWidth, outputWidth: shape.outputWidth)
        adapterQuantisation = scratch
        return scratch
    }

    private func ensure(_ buffer: inout UnsafeMutableBufferPointer<Float>, count: Int) -> UnsafeMutablePointer<Float> {
        if buffer.count < count {
            buffer.deallocate()
            buffer = .allocate(capacity: count)
            buffer.initialize(repeating: 0)
        }
        return buffer.baseAddress!
    }
}
