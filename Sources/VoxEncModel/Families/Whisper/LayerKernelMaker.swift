// Makes one encoder layer's LinearKernels (and the conv stem's) as the PrecisionPolicy says, and releases the float32
// matrices no kernel reads: the step AudioEncoder repeats layer by layer as it reads them, so that the float32 copy
// of a packed or quantised model never exists whole. Routes: GEMMRouting.linearRoute; docs/precision.md.

struct LayerKernelMaker: Sendable {
    let policy: PrecisionPolicy

    /// One layer's kernels, its int8 weights (int8 layers only), and the float32 bytes released.
    struct Made: Sendable {
        let kernels: AudioEncoder.LayerKernels
        let quantised: QuantisedEncoderWeights.Layer?
        let releasedBytes: Int
    }

    /// Layer `index`'s four kernels; its matrices that no kernel reads are emptied.
    func layerKernels(_ layer: inout EncoderLayerWeights, index: Int) throws(PrecisionError) -> Made {
        let before = layer.matrixByteCount
        let kernels: AudioEncoder.LayerKernels
        var quantised: QuantisedEncoderWeights.Layer?
        switch policy.linear(at: .layer(index)) {
        case .int8(let levels):
            let int8 = try QuantisedEncoderWeights.Layer(quantising: layer, index: index, levels: levels)
            quantised = int8
            kernels = AudioEncoder.LayerKernels(qkvProj: .int8(int8.qkvProj), outProj: .int8(int8.outProj),
                                                fc1: .int8(int8.fc1), fc2: .int8(int8.fc2))
        case .route(let route):
            kernels = AudioEncoder.LayerKernels(qkvProj: try Self.kernel(layer.qkvProj, route),
                                                outProj: try Self.kernel(layer.outProj, route),
                                                fc1: try Self.kernel(layer.fc1, route),
                                                fc2: try Self.kernel(layer.fc2, route))
        }
        if !kernels.qkvProj.readsFloatWeights { layer.qkvProj.weight = [] }
        if !kernels.outProj.readsFloatWeights { layer.outProj.weight = [] }
        if !kernels.fc1.readsFloatWeights { layer.fc1.weight = [] }
        if !kernels.fc2.readsFloatWeights { layer.fc2.weight = [] }
        return Made(kernels: kernels, quantised: quantised, releasedBytes: before - layer.matrixByteCount)
    }

    /// A conv stem kernel on the policy's stem route; its matrix emptied when the kernel holds another form.
    func stemKernel(_ conv: inout ConvolutionWeights) throws(PrecisionError) -> LinearKernel {
        guard case .route(let route) = policy.linear(at: .stem) else { preconditionFailure("the stem is never int8") }
        let kernel = try Self.kernel(conv.linear, route)
        if !kernel.readsFloatWeights { conv.weight = [] }
        return kernel
    }

    static func kernel(_ linear: LinearWeights, _ route: LinearRoute) throws(PrecisionError) -> LinearKernel {
        do { return try LinearKernel.make(linear, route: route) } catch { throw .packingFailed(error.description) }
    }
}

extension EncoderLayerWeights {
    /// Bytes of the four float32 weight matrices (QKV, out_proj, fc1, fc2) still held.
    var matrixByteCount: Int {
        4 * (qkvProj.weight.count + outProj.weight.count + fc1.weight.count + fc2.weight.count)
    }

    /// A layer with nothing in it: what a layer handed over leaves behind.
    static let empty = EncoderLayerWeights(
        selfAttnLayerNorm: LayerNormWeights(weight: [], bias: []),
        qkvProj: LinearWeights(weight: [], bias: nil, outputCount: 0, inputCount: 0),
        outProj: LinearWeights(weight: [], bias: nil, outputCount: 0, inputCount: 0),
        finalLayerNorm: LayerNormWeights(weight: [], bias: []),
        fc1: LinearWeights(weight: [], bias: nil, outputCount: 0, inputCount: 0),
        fc2: LinearWeights(weight: [], bias: nil, outputCount: 0, inputCount: 0))
}
