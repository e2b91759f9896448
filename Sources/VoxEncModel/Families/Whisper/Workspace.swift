// Preallocated activations for a batch of chunks (llama2.c's RunState): the layer loop allocates nothing.
// Letters: B chunks, T = 1500 frames per chunk, D width, F feed-forward width, M mel bins.

/// Scratch memory for `AudioEncoder.encode`. One workspace per concurrent caller; reuse it across calls.
public final class EncoderWorkspace {
    public let configuration: EncoderConfiguration
    /// Chunks it can hold at once.
    public let capacity: Int
    /// Residual stream h [B·T, D].
    let hidden: UnsafeMutableBufferPointer<Float>
    /// LayerNorm output [B·T, D].
    let normed: UnsafeMutableBufferPointer<Float>
    /// Fused q | k | v [B·T, 3D].
    let qkv: UnsafeMutableBufferPointer<Float>
    /// Attention output (heads concatenated) [B·T, D].
    let attended: UnsafeMutableBufferPointer<Float>
    /// MLP hidden [B·T, F].
    let feedForward: UnsafeMutableBufferPointer<Float>
    /// Attention scores: one [R, T] row block per worker thread.
    let scores: UnsafeMutableBufferPointer<Float>
    /// Worker threads the scores have room for.
    public let attentionThreads: Int
    /// Conv stem: the chunk's mel, time-major [2T, M]; conv1 output [2T, D]; im2col rows [2T, 3·max(M, D)].
    let melFrames: UnsafeMutableBufferPointer<Float>
    let conv1Output: UnsafeMutableBufferPointer<Float>
    let columns: UnsafeMutableBufferPointer<Float>
    /// bf16 only: q | k | v rounded to bf16 for attention's products [B·T, 3D].
    let valuesBFloat16: UnsafeMutableBufferPointer<UInt16>?
    /// int8 only: u8 activations [B·T, max(D, F)], int32 products [B·T, max(3D, F)], row scales and zero points [B·T].
    public let quantisation: QuantisationScratch?

    /// The buffers `policy` needs beside float32's: int8's quantisation scratch, bf16 attention's rounded q | k | v.
    public init(configuration: EncoderConfiguration, capacity: Int = 1, threads: Int = Parallel.threadCount,
                policy: PrecisionPolicy = .float32()) {
        precondition(capacity >= 1)
        self.configuration = configuration
        self.capacity = capacity
        self.attentionThreads = max(1, threads)
        let t = configuration.maxPositions, d = configuration.modelDimension
        let rows = capacity * t
        func buffer(_ count: Int) -> UnsafeMutableBufferPointer<Float> {
            let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
            b.initialize(repeating: 0)
            return b
        }
        hidden = buffer(rows * d)
        normed = buffer(rows * d)
        qkv = buffer(rows * 3 * d)
        attended = buffer(rows * d)
        feedForward = buffer(rows * configuration.feedForwardDimension)
        scores = buffer(Attention.scratchCount(frames: t, threads: max(1, threads)))
        melFrames = buffer(configuration.melFrameCount * configuration.melBinCount)
        conv1Output = buffer(configuration.melFrameCount * d)
        columns = buffer(configuration.melFrameCount * 3 * max(configuration.melBinCount, d))
        let (k, n) = Self.widestQuantisedProduct(configuration)
        quantisation = policy.quantisesActivations ? QuantisationScratch(rows: rows, inputWidth: k, outputWidth: n) : nil
        if policy.attentionUsesBFloat16 {
            let values = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: rows * 3 * d)
            values.initialize(repeating: 0)
            valuesBFloat16 = values
        } else {
            valuesBFloat16 = nil
        }
    }

    /// The widest k and n of the int8 products: k = D (QKV, fc1) or F (fc2), n = 3D (QKV) or F (fc1).
    static func widestQuantisedProduct(_ c: EncoderConfiguration) -> (k: Int, n: Int) {
        (max(c.modelDimension, c.feedForwardDimension), max(3 * c.modelDimension, c.feedForwardDimension))
    }

    deinit {
        for b in [hidden, normed, qkv, attended, feedForward, scores, melFrames, conv1Output, columns] {
            b.deallocate()
        }
        valuesBFloat16?.deallocate()
    }

    /// Bytes held.
    public var byteCount: Int {
        [hidden, normed, qkv, attended, feedForward, scores, melFrames, conv1Output, columns]
            .reduce(0) { $0 + $1.count * 4 } + (quantisation?.byteCount ?? 0) + (valuesBFloat16?.count ?? 0) * 2
    }

    /// Bytes a workspace of this shape holds, without allocating it.
    public static func byteCount(configuration c: EncoderConfiguration, capacity: Int, threads: Int = 1,
                                 policy: PrecisionPolicy = .float32()) -> Int {
        let t = c.maxPositions, d = c.modelDimension
        let rows = capacity * t
        let floats = rows * d * 3 + rows * 3 * d + rows * c.feedForwardDimension
            + Attention.scratchCount(frames: t, threads: threads)
            + c.melFrameCount * c.melBinCount + c.melFrameCount * d + c.melFrameCount * 3 * max(c.melBinCount, d)
        let (k, n) = widestQuantisedProduct(c)
        return floats * 4 + (policy.quantisesActivations ? QuantisationScratch.byteCount(rows: rows, inputWidth: k, outputWidth: n) : 0)
            + (policy.attentionUsesBFloat16 ? rows * 3 * d * 2 : 0)
    }
}
