// Making an Embedder: the precision policy made and checked once, then the model directory's family loads it
// (EncoderFamilies), or weights already in memory are wrapped (benchmarks, tests).

import VoxEncModel

extension Embedder {
    /// Loads the model in `directory` with the family that recognises it (Families/Registry.swift; see
    /// Weights/README.md for the layouts). With `precision` int8 or bf16, refuses before reading the weights when it
    /// cannot run here. The encoder is made as its layers are read: a packed or quantised model never holds its
    /// whole float32 copy.
    public convenience init(modelDirectory: String, configuration: EmbedderConfiguration = .init()) throws(VoxEncError) {
        let policy = try configuration.policy()
        let model: any EncoderModel
        do {
            model = try Parallel.withThreads(configuration.threadCount) { () throws(EncoderLoadError) in
                try EncoderFamilies.load(directory: modelDirectory, policy: policy)
            }
        } catch {
            switch error {
            case .model(let error): throw .model(error)
            case .precision(let error): throw .precision(error)
            }
        }
        self.init(model: model, configuration: configuration)
    }

    /// Wraps Whisper-family weights already in memory (benchmarks, tests). Throws only for int8 and bf16
    /// (`VoxEncError.precision`). When `loaded` is handed over (`consume`), the float32 matrices that a kernel holds
    /// in another form are freed while the encoder is made; a copy kept by the caller keeps them alive.
    @_spi(Engine) public convenience init(model loaded: consuming LoadedModel, configuration: EmbedderConfiguration = .init())
        throws(VoxEncError) {
        let policy = try configuration.policy()
        let (description, encoderWeights, adapterWeights) = Self.split(loaded)
        // Handed to the encoder and adapter through a box, so that no binding here keeps the float32 arrays alive.
        let handover = Handover((consume encoderWeights, consume adapterWeights))
        let model: WhisperModel
        do {
            model = try Parallel.withThreads(configuration.threadCount) { () throws(PrecisionError) in
                let (encoderWeights, adapterWeights) = handover.take()
                let encoder = try AudioEncoder(weights: consume encoderWeights, policy: policy)
                guard let adapterWeights = consume adapterWeights else {
                    return WhisperModel(description: description, encoder: encoder, adapter: nil)
                }
                return WhisperModel(description: description, encoder: encoder,
                                    adapter: try Adapter(weights: consume adapterWeights, policy: policy))
            }
        } catch {
            throw .precision(error)
        }
        self.init(model: model, configuration: configuration)
    }

    /// A model's parts, the model itself gone (so that its arrays are referenced once, by the parts).
    private static func split(_ loaded: consuming LoadedModel) -> (ModelDescription, EncoderWeights, AdapterWeights?) {
        (loaded.description, loaded.encoder, loaded.adapter)
    }
}

extension EmbedderConfiguration {
    /// The precision policy of these settings: the one place a load checks that its precision runs here.
    func policy() throws(VoxEncError) -> PrecisionPolicy {
        do {
            return try PrecisionPolicy(precision: precision, floatLayers: int8FloatLayers,
                                       gemm: GEMMRouting.resolve(floatGEMM).backend)
        } catch {
            throw .precision(error)
        }
    }
}

/// Holds a value until it is taken, once (moves ownership into a closure without a capture that outlives the move).
final class Handover<Value>: @unchecked Sendable {
    private var value: Value?
    init(_ value: consuming Value) { self.value = value }
    func take() -> Value {
        defer { value = nil }
        return value.take()!
    }
}
