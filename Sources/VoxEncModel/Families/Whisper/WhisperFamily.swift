// Whisper-style encoders: Voxtral's audio tower with its adapter (Hugging Face and Mistral layouts), and Whisper's
// encoder (Hugging Face and CTranslate2 layouts). Reference: transformers models/voxtral, models/whisper; SPEC.md.

public enum WhisperFamily: EncoderFamily {
    public static let name = "whisper"

    public static func recognises(directory: String) -> Bool {
        (try? CheckpointLayout.detect(directory: directory)) != nil
    }

    /// Reads the encoder layer by layer, making each layer's kernels before the next is read (AudioEncoder(reading:)),
    /// then the adapter: a packed or quantised model never holds its whole float32 copy.
    public static func load(directory: String, policy: PrecisionPolicy) throws(EncoderLoadError) -> any EncoderModel {
        let model: ModelReader
        do { model = try ModelLoader.open(directory: directory) } catch { throw .model(error) }
        let encoder = try AudioEncoder(reading: model, policy: policy)
        let adapterWeights: AdapterWeights?
        do { adapterWeights = try model.readAdapter() } catch { throw .model(error) }
        var adapter: Adapter?
        if let adapterWeights = consume adapterWeights {
            do { adapter = try Adapter(weights: consume adapterWeights, policy: policy) } catch { throw .precision(error) }
        }
        return WhisperModel(description: model.finish().description, encoder: encoder, adapter: adapter)
    }

    public static func describe(directory: String, threads: Int) throws(ModelError) -> ModelSummary {
        let (description, floats, _) = try ModelLoader.describe(directory: directory)
        return ModelSummary(
            family: name, description: description, floatBytes: floats * 4,
            activationBytesPerStep: EncoderWorkspace.byteCount(configuration: description.encoder, capacity: 1,
                                                               threads: threads),
            encoderOutput: WhisperModel.output(.encoder, encoder: description.encoder, adapter: description.adapter),
            adapterOutput: description.adapter.map { WhisperModel.output(.adapter, encoder: description.encoder, adapter: $0) })
    }
}
