// A model directory opened for reading (ModelLoader.open): its configuration, the tensors its layout stores
// (EncoderTensors), and a WeightReader that checks and hashes them. The parts come out as float32 in the digest's
// order — the conv stem and positions, then one encoder layer at a time, the final LayerNorm, the adapter — so that
// the encoder can make a layer's kernels and drop its float32 matrices before the next layer is read
// (AudioEncoder(reading:…)): a bf16 Voxtral Mini then never holds its 2.5 GB float32 copy, only a layer or two of it.
// `ModelLoader.load` reads every part into `EncoderWeights` through the same calls.

/// Reads one model's parts, each once, in order. Not thread-safe: one load owns it.
public final class ModelReader {
    public let directory: String
    public let layout: CheckpointLayout
    public var configuration: EncoderConfiguration { tensors.configuration }
    /// nil when the layout has no adapter (Whisper).
    public var adapterConfiguration: AdapterConfiguration? { tensors.adapterConfiguration }
    let tensors: EncoderTensors
    private let reader: WeightReader
    /// Prefixes of the tensors that belong to the audio path, and stored names used without being read as tensors
    /// (CTranslate2's `num_heads`): what `finish` does not report as unused.
    private let audioPrefixes: [String]
    private let usedAttributes: [String]
    private var next: Part = .stem

    private enum Part: Equatable {
        case stem, layer(Int), layerNorm, adapter, finished
    }

    /// Checks every expected tensor's shape and dtype from the headers, before any data is read.
    init(directory: String, layout: CheckpointLayout, source: any TensorSource, tensors: EncoderTensors,
         audioPrefixes: [String], usedAttributes: [String] = []) throws(ModelError) {
        self.directory = directory
        self.layout = layout
        self.tensors = tensors
        self.audioPrefixes = audioPrefixes
        self.usedAttributes = usedAttributes
        reader = try WeightReader(source: source, expectations: tensors.expectations)
    }

    private func advance(from part: Part) {
        precondition(next == part, "\(part) read out of order (next: \(next))")
        switch part {
        case .stem: next = tensors.layers.isEmpty ? .layerNorm : .layer(0)
        case .layer(let index): next = index + 1 < tensors.layers.count ? .layer(index + 1) : .layerNorm
        case .layerNorm: next = .adapter
        case .adapter, .finished: next = .finished
        }
    }

    /// conv1, conv2 (permuted to [out, 3, in]) and the positional table [P, D], stored or computed (Mistral).
    public func readStem() throws(ModelError) -> (conv1: ConvolutionWeights, conv2: ConvolutionWeights, positions: [Float]) {
        advance(from: .stem)
        let conv1 = try ConvolutionWeights(reading: tensors.conv1, from: reader)
        let conv2 = try ConvolutionWeights(reading: tensors.conv2, from: reader)
        let positions: [Float]
        if let stored = tensors.positions {
            positions = try reader.read(stored, isWeight: false)
        } else {
            positions = Sinusoids.table(length: configuration.maxPositions, channels: configuration.modelDimension)
            reader.include(computed: positions, shape: [configuration.maxPositions, configuration.modelDimension])
        }
        return (conv1, conv2, positions)
    }

    /// Encoder layer `index`; layers come in order, after the stem.
    public func readLayer(_ index: Int) throws(ModelError) -> EncoderLayerWeights {
        advance(from: .layer(index))
        return try EncoderLayerWeights(reading: tensors.layers[index], from: reader)
    }

    /// The final LayerNorm, after the last layer.
    public func readLayerNorm() throws(ModelError) -> LayerNormWeights {
        advance(from: .layerNorm)
        return try LayerNormWeights(reading: tensors.layerNorm, from: reader)
    }

    /// The adapter (nil for Whisper), after the final LayerNorm.
    public func readAdapter() throws(ModelError) -> AdapterWeights? {
        advance(from: .adapter)
        guard let configuration = tensors.adapterConfiguration, let adapter = tensors.adapter else { return nil }
        return AdapterWeights(configuration: configuration,
                              linear1: try LinearWeights(reading: adapter.linear1, from: reader),
                              linear2: try LinearWeights(reading: adapter.linear2, from: reader))
    }

    /// What was read (waits for the digest's hashing) and the audio tensors left unread; after `readAdapter`.
    /// Tensors outside the audio prefixes (text model, Whisper decoder) are skipped on purpose and not listed.
    public func finish() -> (description: ModelDescription, unusedTensors: [String]) {
        precondition(next == .finished, "finish() before every part was read (next: \(next))")
        var used = Set(reader.readNames + usedAttributes)
        for name in reader.readNames { used.formUnion(reader.source.companions(of: name)) }
        let unused = reader.source.tensorNames.filter { name in
            !used.contains(name) && audioPrefixes.contains { name.hasPrefix($0) }
        }
        let description = ModelDescription(path: directory, layout: layout, encoder: configuration,
                                           adapter: adapterConfiguration, storedDType: reader.storedDType,
                                           parameterCount: reader.parameterCount, digest: reader.digest())
        return (description, unused)
    }
}
