// The arithmetic of one 30 s chunk, from the shapes: the basis of GFLOP/s figures. Letters: T = 1500 frames,
// D width, F feed-forward width, M mel bins, L layers, Dt adapter width. One multiply-add = 2 flops.

@_spi(Engine) import VoxEnc
import VoxEncModel

public struct GEMMShape: Sendable, Hashable, CustomStringConvertible {
    public var m: Int, n: Int, k: Int
    /// How many times one chunk runs it.
    public var count: Int
    /// An attention product, run per head (heads spread over threads, each in row blocks of Attention.rowBlock),
    /// not in RowBlocks over the threads.
    public var perHead = false
    public var flops: Double { 2 * Double(m) * Double(n) * Double(k) * Double(count) }
    public var description: String { "\(m)×\(n)×\(k)" + (count > 1 ? " ×\(count)" : "") }
}

public enum FlopCount {
    /// Every GEMM of one chunk through the encoder (and the adapter when given).
    public static func gemms(encoder c: EncoderConfiguration, adapter: AdapterConfiguration?) -> [GEMMShape] {
        let t = c.maxPositions, d = c.modelDimension, f = c.feedForwardDimension, l = c.layerCount
        var shapes = [
            GEMMShape(m: 2 * t, n: d, k: 3 * c.melBinCount, count: 1),   // conv1 (im2col)
            GEMMShape(m: t, n: d, k: 3 * d, count: 1),                    // conv2 (im2col, stride 2)
            GEMMShape(m: t, n: 3 * d, k: d, count: l),                    // fused q|k|v
            GEMMShape(m: t, n: t, k: c.headDimension, count: l * c.headCount, perHead: true),  // scores q·kᵀ per head
            GEMMShape(m: t, n: c.headDimension, k: t, count: l * c.headCount, perHead: true),  // P·v per head
            GEMMShape(m: t, n: d, k: d, count: l),                        // out_proj
            GEMMShape(m: t, n: f, k: d, count: l),                        // fc1
            GEMMShape(m: t, n: d, k: f, count: l),                        // fc2
        ]
        if let adapter {
            let rows = t / adapter.stackFactor
            shapes.append(GEMMShape(m: rows, n: adapter.outputDimension, k: adapter.inputDimension, count: 1))
            shapes.append(GEMMShape(m: rows, n: adapter.outputDimension, k: adapter.outputDimension, count: 1))
        }
        return shapes
    }

    public static func perChunk(encoder: EncoderConfiguration, adapter: AdapterConfiguration?) -> Double {
        gemms(encoder: encoder, adapter: adapter).reduce(0) { $0 + $1.flops }
    }
}
