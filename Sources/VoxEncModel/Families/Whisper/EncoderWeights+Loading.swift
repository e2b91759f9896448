// Builds the float32 weight structs from a layout's tensors (EncoderTensors) through a WeightReader: the "remap"
// step, one path for every layout (safetensors and CTranslate2). Convs are permuted to [out, 3, in]; a fused Linear
// is its row groups stacked (q | k | v, with zeros where no k bias is stored).

extension LinearWeights {
    init(reading tensors: LinearTensors, from reader: WeightReader) throws(ModelError) {
        let outputCount = tensors.outputCount, inputCount = tensors.inputCount
        let stacked = tensors.groups.count > 1
        // Read group by group (weight, then bias): the digest's order. A single group's array is taken as read; a
        // stack is reserved once, with no intermediate concatenations.
        var weight = [Float](), bias = [Float]()
        if stacked { weight.reserveCapacity(outputCount * inputCount) }
        if tensors.hasBias { bias.reserveCapacity(outputCount) }
        for group in tensors.groups {
            var values = try reader.read(group.weight)
            if let reorder = group.reorder { values = reorder.apply(values, rows: group.rows, width: inputCount) }
            if stacked { weight += values } else { weight = values }
            switch group.bias {
            case .stored(let name):
                let stored = try reader.read(name)
                bias += group.reorder.map { $0.apply(stored, rows: group.rows, width: 1) } ?? stored
            case .zeros, .absent: if tensors.hasBias { bias += repeatElement(0, count: group.rows) }
            }
        }
        self.init(weight: weight, bias: tensors.hasBias ? bias : nil, outputCount: outputCount, inputCount: inputCount)
    }
}

extension LayerNormWeights {
    init(reading tensors: LayerNormTensors, from reader: WeightReader) throws(ModelError) {
        self.init(weight: try reader.read(tensors.weight), bias: try reader.read(tensors.bias))
    }
}

extension ConvolutionWeights {
    init(reading tensors: ConvolutionTensors, from reader: WeightReader) throws(ModelError) {
        self.init(pytorchWeight: try reader.read(tensors.weight), bias: try reader.read(tensors.bias),
                  outputChannels: tensors.outputChannels, inputChannels: tensors.inputChannels, stride: tensors.stride)
    }
}

extension EncoderLayerWeights {
    init(reading tensors: EncoderLayerTensors, from reader: WeightReader) throws(ModelError) {
        let selfAttnLayerNorm = try LayerNormWeights(reading: tensors.selfAttnLayerNorm, from: reader)
        let qkvProj = try LinearWeights(reading: tensors.qkvProj, from: reader)
        let outProj = try LinearWeights(reading: tensors.outProj, from: reader)
        let finalLayerNorm = try LayerNormWeights(reading: tensors.finalLayerNorm, from: reader)
        let fc1 = try LinearWeights(reading: tensors.fc1, from: reader)
        let fc2 = try LinearWeights(reading: tensors.fc2, from: reader)
        self.init(selfAttnLayerNorm: selfAttnLayerNorm, qkvProj: qkvProj, outProj: outProj,
                  finalLayerNorm: finalLayerNorm, fc1: fc1, fc2: fc2)
    }
}

extension EncoderWeights {
    /// Every part of the encoder at once, float32 (`ModelLoader.load`; the BLAS route and tests keep them all).
    init(reading model: ModelReader) throws(ModelError) {
        let stem = try model.readStem()
        var layers: [EncoderLayerWeights] = []
        layers.reserveCapacity(model.configuration.layerCount)
        for index in 0..<model.configuration.layerCount { layers.append(try model.readLayer(index)) }
        self.init(configuration: model.configuration, conv1: stem.conv1, conv2: stem.conv2, positions: stem.positions,
                  layers: layers, layerNorm: try model.readLayerNorm())
    }
}
