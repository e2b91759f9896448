// Makes one encoder layer's LinearKernels (and the conv stem's) for a precision, and releases the float32 matrices
// no kernel reads: the step AudioEncoder repeats layer by layer as it reads them, so that the float32 copy of a
// packed or quantised model never exists whole. Routes: GEMMRouting.linearRoute; docs/precision.md.

struct LayerKernelMaker: Sendable {
    let precision: Precision
    /// The precision's route, and float32's (int8's and bf16's first layers, int8's conv stem).
    let route, floatRoute: LinearRoute
    /// int8: layers below this index stay float32 (QuantisedEncoderWeights.floatLayerCount).
    let floatLayers: Int
    /// int8: the weights' levels (127 with VNNI, 63 without); nil otherwise.
    let int8Levels: Int?

    /// One layer's kernels, its int8 weights (int8 layers only), and the float32 bytes released.
    struct Made: Sendable {
        let kernels: AudioEncoder.LayerKernels
        let quantised: QuantisedEncoderWeights.Layer?
        let releasedBytes: Int
    }

    init(precision: Precision, gemm: FloatGEMM, floatLayers: Int) throws(QuantisationError) {
        self.precision = precision
        route = GEMMRouting.linearRoute(precision: precision, gemm: gemm)
        floatRoute = GEMMRouting.linearRoute(precision: .float32, gemm: gemm)
        self.floatLayers = floatLayers
        int8Levels = precision == .int8 ? try IntegerGEMM.support.get().weightLevels : nil
    }

    /// Layer `index`'s four kernels; its matrices that no kernel reads are emptied.
    func layerKernels(_ layer: inout EncoderLayerWeights, index: Int) throws(QuantisationError) -> Made {
        let before = layer.matrixByteCount
        let kernels: AudioEncoder.LayerKernels
        var quantised: QuantisedEncoderWeights.Layer?
        if let levels = int8Levels, index >= floatLayers {
            let int8 = try QuantisedEncoderWeights.Layer(quantising: layer, index: index, levels: levels)
            quantised = int8
            kernels = AudioEncoder.LayerKernels(qkvProj: .int8(int8.qkvProj), outProj: .int8(int8.outProj),
                                                fc1: .int8(int8.fc1), fc2: .int8(int8.fc2))
        } else {
            // The first layers of bf16 run float32 like int8's (BFloat16.floatLayerCount).
            let isFloat = precision == .int8 || (precision == .bfloat16 && index < BFloat16.floatLayerCount)
            let layerRoute = isFloat ? floatRoute : route
            kernels = AudioEncoder.LayerKernels(qkvProj: try Self.kernel(layer.qkvProj, layerRoute),
                                                outProj: try Self.kernel(layer.outProj, layerRoute),
                                                fc1: try Self.kernel(layer.fc1, layerRoute),
                                                fc2: try Self.kernel(layer.fc2, layerRoute))
        }
        if !kernels.qkvProj.readsFloatWeights { layer.qkvProj.weight = [] }
        if !kernels.outProj.readsFloatWeights { layer.outProj.weight = [] }
        if !kernels.fc1.readsFloatWeights { layer.fc1.weight = [] }
        if !kernels.fc2.readsFloatWeights { layer.fc2.weight = [] }
        return Made(kernels: kernels, quantised: quantised, releasedBytes: before - layer.matrixByteCount)
    }

    /// A conv stem kernel: float32 with int8 (QuantisedEncoderWeights), the precision's route otherwise; its
    /// matrix emptied when the kernel holds another form.
    func stemKernel(_ conv: inout ConvolutionWeights) throws(QuantisationError) -> LinearKernel {
        let kernel = try Self.kernel(conv.linear, precision == .int8 ? floatRoute : route)
        if !kernel.readsFloatWeights { conv.weight = [] }
        return kernel
    }

    static func kernel(_ linear: LinearWeights, _ route: LinearRoute) throws(QuantisationError) -> LinearKernel {
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
