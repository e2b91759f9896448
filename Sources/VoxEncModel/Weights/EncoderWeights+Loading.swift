// Builds `EncoderWeights` / `AdapterWeights` from a checkpoint through the name table: the "remap" step.
// Reference: transformers VoxtralEncoder / WhisperEncoder module shapes (conv [out, in, 3], Linear [out, in]),
// VoxtralMultiModalProjector (linear_1 [Dt, 4D], linear_2 [Dt, Dt], no bias); the fused q/k/v with a zero k bias
// follows vLLM's `_create_fake_bias_for_k_proj` (SPEC.md §4.2). Shapes: D model width, F feed-forward width,
// M mel bins, P positions, Dt text width.

extension EncoderWeights {
    /// Every tensor the encoder reads and its shape, in the loader's (and the digest's) order.
    static func expectations(names: TensorNames, configuration: EncoderConfiguration) -> [(name: String, shape: [Int])] {
        let D = configuration.modelDimension, F = configuration.feedForwardDimension
        let M = configuration.melBinCount, P = configuration.maxPositions
        var list: [(name: String, shape: [Int])] = [
            (names.conv1Weight, [D, M, 3]), (names.conv1Bias, [D]),
            (names.conv2Weight, [D, D, 3]), (names.conv2Bias, [D]),
        ]
        if let positions = names.embedPositionsWeight { list.append((positions, [P, D])) }
        for index in 0..<configuration.layerCount {
            let layer = names.layer(index)
            list += [
                (layer.selfAttnLayerNormWeight, [D]), (layer.selfAttnLayerNormBias, [D]),
                (layer.qProjWeight, [D, D]), (layer.qProjBias, [D]), (layer.kProjWeight, [D, D]),
                (layer.vProjWeight, [D, D]), (layer.vProjBias, [D]),
                (layer.outProjWeight, [D, D]), (layer.outProjBias, [D]),
                (layer.finalLayerNormWeight, [D]), (layer.finalLayerNormBias, [D]),
                (layer.fc1Weight, [F, D]), (layer.fc1Bias, [F]), (layer.fc2Weight, [D, F]), (layer.fc2Bias, [D]),
            ]
        }
        list += [(names.layerNormWeight, [D]), (names.layerNormBias, [D])]
        return list
    }

    /// Reads the encoder in `expectations` order: convs permuted to [out, 3, in], q/k/v fused with zeros for the
    /// missing k bias, the positional table stored (HF layouts) or computed (Mistral).
    init(reading reader: WeightReader, names: TensorNames, configuration: EncoderConfiguration) throws(ModelError) {
        let D = configuration.modelDimension, F = configuration.feedForwardDimension
        let conv1 = ConvolutionWeights(pytorchWeight: try reader.read(names.conv1Weight), bias: try reader.read(names.conv1Bias),
                                       outputChannels: D, inputChannels: configuration.melBinCount, stride: 1)
        let conv2 = ConvolutionWeights(pytorchWeight: try reader.read(names.conv2Weight), bias: try reader.read(names.conv2Bias),
                                       outputChannels: D, inputChannels: D, stride: 2)
        let positions: [Float]
        if let stored = names.embedPositionsWeight {
            positions = try reader.read(stored, isWeight: false)
        } else {
            positions = Sinusoids.table(length: configuration.maxPositions, channels: D)
            reader.include(computed: positions, shape: [configuration.maxPositions, D])
        }
        var layers: [EncoderLayerWeights] = []
        layers.reserveCapacity(configuration.layerCount)
        for index in 0..<configuration.layerCount {
            let name = names.layer(index)
            let selfAttnLayerNorm = LayerNormWeights(weight: try reader.read(name.selfAttnLayerNormWeight),
                                                     bias: try reader.read(name.selfAttnLayerNormBias))
            // Rows q, then k, then v; bias q, zeros (no k bias), v. Reserved once: no intermediate concatenations.
            var qkvWeight = [Float](), qkvBias = [Float]()
            qkvWeight.reserveCapacity(3 * D * D)
            qkvBias.reserveCapacity(3 * D)
            qkvWeight += try reader.read(name.qProjWeight)
            qkvBias += try reader.read(name.qProjBias)
            qkvWeight += try reader.read(name.kProjWeight)
            qkvBias += repeatElement(0, count: D)
            qkvWeight += try reader.read(name.vProjWeight)
            qkvBias += try reader.read(name.vProjBias)
            let qkvProj = LinearWeights(weight: qkvWeight, bias: qkvBias, outputCount: 3 * D, inputCount: D)
            let outProj = LinearWeights(weight: try reader.read(name.outProjWeight), bias: try reader.read(name.outProjBias),
                                        outputCount: D, inputCount: D)
            let finalLayerNorm = LayerNormWeights(weight: try reader.read(name.finalLayerNormWeight),
                                                  bias: try reader.read(name.finalLayerNormBias))
            let fc1 = LinearWeights(weight: try reader.read(name.fc1Weight), bias: try reader.read(name.fc1Bias),
                                    outputCount: F, inputCount: D)
            let fc2 = LinearWeights(weight: try reader.read(name.fc2Weight), bias: try reader.read(name.fc2Bias),
                                    outputCount: D, inputCount: F)
            layers.append(EncoderLayerWeights(selfAttnLayerNorm: selfAttnLayerNorm, qkvProj: qkvProj, outProj: outProj,
                                              finalLayerNorm: finalLayerNorm, fc1: fc1, fc2: fc2))
        }
        let layerNorm = LayerNormWeights(weight: try reader.read(names.layerNormWeight),
                                         bias: try reader.read(names.layerNormBias))
        self.init(configuration: configuration, conv1: conv1, conv2: conv2, positions: positions, layers: layers,
                  layerNorm: layerNorm)
    }
}

extension AdapterWeights {
    /// linear_1 [Dt, stack·D] and linear_2 [Dt, Dt]; empty when the layout has no adapter.
    static func expectations(names: TensorNames, configuration: AdapterConfiguration) -> [(name: String, shape: [Int])] {
        guard let linear1 = names.linear1Weight, let linear2 = names.linear2Weight else { return [] }
        return [(linear1, [configuration.outputDimension, configuration.inputDimension]),
                (linear2, [configuration.outputDimension, configuration.outputDimension])]
    }

    /// nil when the layout has no adapter (HF Whisper).
    init?(reading reader: WeightReader, names: TensorNames, configuration: AdapterConfiguration) throws(ModelError) {
        guard let linear1 = names.linear1Weight, let linear2 = names.linear2Weight else { return nil }
        let output = configuration.outputDimension
        self.init(configuration: configuration,
                  linear1: LinearWeights(weight: try reader.read(linear1), bias: nil, outputCount: output,
                                         inputCount: configuration.inputDimension),
                  linear2: LinearWeights(weight: try reader.read(linear2), bias: nil, outputCount: output, inputCount: output))
    }
}
