// The int8 path's kernels against their oracles (VoxEncTestSupport/References.swift): row quantisation, weight
// quantisation, and the whole int8 Linear (quantise → integer dot → dequantise), on odd shapes.

import Foundation
import Testing
@_spi(Engine) import VoxEnc
import VoxEncAudio
@testable import VoxEncModel
import VoxEncTestSupport

@Suite("int8 kernels against their oracles")
struct QuantisationTests {
    /// The weight levels this CPU's oneDNN kernels use (127 with VNNI, 63 without); nil when int8 cannot run.
    static var levels: Int? { try? IntegerGEMM.support.get().weightLevels }

    @Test("row quantisation: the oracle's codes, scale and zero point; error ≤ half a step; zero exact",
          arguments: [1, 7, 16, 37, 129])
    func rowQuantisation(width: Int) {
        for (seed, shift) in [(1, Float(0)), (2, 0.7), (3, -0.9), (4, 5)] as [(UInt64, Float)] {
            var x = Reference.randomValues(count: width, seed: seed, scale: 2).map { $0 + shift }
            if width > 3 { x[2] = 0 }
            var codes = [UInt8](repeating: 0, count: width)
            let (scale, zero) = x.withUnsafeBufferPointer { x in
                codes.withUnsafeMutableBufferPointer { RowQuantisation.quantise(x.baseAddress!, width: width, into: $0.baseAddress!) }
            }
            let expected = Reference.quantiseRow(x)
            #expect(codes == expected.codes, "width \(width) seed \(seed)")
            #expect(scale == expected.scale && Int(zero) == expected.zeroPoint)
            for i in 0..<width {
                let decoded = scale * Float(Int(codes[i]) - Int(zero))
                #expect(abs(decoded - x[i]) <= QuantisationTolerance.codeRoundingSteps * Double(scale), "x[\(i)] = \(x[i]) decodes to \(decoded)")
            }
            if width > 3 { #expect(Int(codes[2]) == Int(zero), "0 must be exact") }
        }
        // A row of zeros: scale 0, every code at the zero point.
        var codes = [UInt8](repeating: 7, count: width)
        let zeros = [Float](repeating: 0, count: width)
        let result = zeros.withUnsafeBufferPointer { x in
            codes.withUnsafeMutableBufferPointer { RowQuantisation.quantise(x.baseAddress!, width: width, into: $0.baseAddress!) }
        }
        #expect(result.scale == 0 && codes.allSatisfy { Int32($0) == result.zeroPoint })
    }

    @Test("weight quantisation: symmetric per output channel, the oracle's values, sums, error ≤ half a step")
    func weightQuantisation() throws {
        let n = 13, k = 37
        var w = Reference.randomValues(count: n * k, seed: 5, scale: 0.3)
        for i in 0..<k { w[4 * k + i] = 0 }  // a channel of zeros
        let bias = Reference.randomValues(count: n, seed: 6)
        for levels in [127, 63] {
            let q = try QuantisedLinearWeights(quantising: LinearWeights(weight: w, bias: bias, outputCount: n, inputCount: k),
                                               levels: levels, name: "test")
            let expected = Reference.quantiseWeights(w, n: n, k: k, levels: levels)
            #expect(q.weight == expected.q && q.scales == expected.scales && q.bias == bias)
            #expect(q.weight.allSatisfy { abs(Int($0)) <= levels })
            for j in 0..<n {
                #expect(q.sums[j] == (0..<k).reduce(Int32(0)) { $0 + Int32(q.weight[j * k + $1]) })
                for i in 0..<k { #expect(abs(q.scales[j] * Float(q.weight[j * k + i]) - w[j * k + i]) <= QuantisationTolerance.codeRoundingSteps * Double(q.scales[j])) }
            }
            #expect(q.scales[4] == 0)
        }
    }

    @Test("weights that cannot be quantised are refused with a typed error")
    func refusals() {
        let k = QuantisedLinearWeights.maximumInputCount + 1
        #expect(throws: PrecisionError.reductionTooLong(tensor: "wide", length: k, limit: k - 1)) {
            try QuantisedLinearWeights(quantising: LinearWeights(weight: [Float](repeating: 0.5, count: k), bias: nil,
                                                                 outputCount: 1, inputCount: k), levels: 127, name: "wide")
        }
        var w = [Float](repeating: 0.5, count: 12)
        w[7] = .nan
        #expect(throws: PrecisionError.nonFiniteWeight(tensor: "nan", row: 1)) {
            try QuantisedLinearWeights(quantising: LinearWeights(weight: w, bias: nil, outputCount: 3, inputCount: 4),
                                       levels: 127, name: "nan")
        }
    }

    @Test("int8 Linear = quantise → integer dot → dequantise (+ bias, + residual, or GELU), odd shapes",
          .enabled(if: levels != nil, "int8 cannot run here (no oneDNN or a CPU below AVX2); the refusal is tested in Int8EncoderTests"),
          arguments: [(1, 1, 1), (1, 5, 3), (7, 13, 37), (7, 13, 36), (33, 17, 129), (300, 24, 70), (2, 40, 1283)])
    func int8Linear(shape: (Int, Int, Int)) throws {
        let levels = try #require(Self.levels)
        let (m, n, k) = shape
        let x = Reference.randomValues(count: m * k, seed: 7, scale: 1.5).enumerated().map { $0.element + Float($0.offset % 3) * 0.2 }
        let w = Reference.randomValues(count: n * k, seed: 8, scale: 0.2)
        let bias = Reference.randomValues(count: n, seed: 9)
        let weights = try QuantisedLinearWeights(quantising: LinearWeights(weight: w, bias: bias, outputCount: n, inputCount: k),
                                                 levels: levels, name: "test")
        let scratch = QuantisationScratch(rows: m, inputWidth: k, outputWidth: n)
        var y = [Float](repeating: .nan, count: m * n)
        x.withUnsafeBufferPointer { x in y.withUnsafeMutableBufferPointer { y in
            QuantisedLinear.apply(weights, input: x.baseAddress!, rows: m, scratch: scratch, into: y.baseAddress!)
        }}
        let expected = Reference.int8MatmulTransposed(x, q: weights.weight, scales: weights.scales, bias: bias, m: m, n: n, k: k)
        let d = Discrepancy(y, expected)
        #expect(d.relativeL2 <= QuantisationTolerance.int8LinearRelativeL2, "\(d)")
        // The scheme itself: close to the exact float product.
        let product = Reference.matmulTransposed(x, w, m: m, n: n, k: k)
        let exact = (0..<(m * n)).map { product[$0] + bias[$0 % n] }
        let error = Discrepancy(y, exact)
        #expect(error.relativeL2 <= QuantisationTolerance.int8VersusFloatRelativeL2, "\(error)")
        // Accumulating into a residual adds the same values.
        let residual = Reference.randomValues(count: m * n, seed: 10)
        var accumulated = residual
        x.withUnsafeBufferPointer { x in accumulated.withUnsafeMutableBufferPointer { y in
            QuantisedLinear.apply(weights, input: x.baseAddress!, rows: m, scratch: scratch, into: y.baseAddress!, accumulate: true)
        }}
        let sum = Discrepancy(accumulated, (0..<(m * n)).map { residual[$0] + expected[$0] })
        #expect(sum.maxAbsolute <= QuantisationTolerance.rowSumAbsolute, "\(sum)")
        // GELU in the epilogue (fc1, the adapter's linear_1): the oracle's product through the oracle's GELU.
        var activated = [Float](repeating: .nan, count: m * n)
        x.withUnsafeBufferPointer { x in activated.withUnsafeMutableBufferPointer { y in
            QuantisedLinear.apply(weights, input: x.baseAddress!, rows: m, scratch: scratch, into: y.baseAddress!, gelu: true)
        }}
        let gelu = Discrepancy(activated, expected.map(Reference.gelu))
        #expect(gelu.relativeL2 <= QuantisationTolerance.int8LinearRelativeL2, "\(gelu)")
    }

    @Test("int8 Linear without bias, and bit-identical at 1 and 2 threads",
          .enabled(if: levels != nil, "int8 cannot run here (no oneDNN or a CPU below AVX2)"))
    func int8LinearThreads() throws {
        let levels = try #require(Self.levels)
        let m = 517, n = 40, k = 96
        let x = Reference.randomValues(count: m * k, seed: 11)
        let w = Reference.randomValues(count: n * k, seed: 12, scale: 0.1)
        let weights = try QuantisedLinearWeights(quantising: LinearWeights(weight: w, bias: nil, outputCount: n, inputCount: k),
                                                 levels: levels, name: "test")
        let scratch = QuantisationScratch(rows: m, inputWidth: k, outputWidth: n)
        func run(threads: Int) -> [Float] {
            Parallel.withThreads(threads) {
            var y = [Float](repeating: .nan, count: m * n)
            x.withUnsafeBufferPointer { x in y.withUnsafeMutableBufferPointer { y in
                QuantisedLinear.apply(weights, input: x.baseAddress!, rows: m, scratch: scratch, into: y.baseAddress!)
            }}
            return y
            }
        }
        let one = run(threads: 1), two = run(threads: 2)
        #expect(one == two)
        let expected = Reference.int8MatmulTransposed(x, q: weights.weight, scales: weights.scales, bias: nil, m: m, n: n, k: k)
        #expect(Discrepancy(one, expected).relativeL2 <= QuantisationTolerance.int8LinearRelativeL2)
    }

    @Test("int8 Linear on oneDNN's matmul with packed s8 weights equals dnnl_gemm_u8s8s32 bit for bit (exact integer sums), odd shapes",
          .enabled(if: OneDNN.integerMatmulImplementation != nil, "oneDNN has no u8×s8 matmul here"),
          arguments: [(1, 1, 1), (17, 40, 96), (517, 33, 129), (64, 1280, 384)])
    func packedInt8MatchesGEMMAPI(shape: (Int, Int, Int)) throws {
        let levels = try #require(Self.levels)
        let (m, n, k) = shape
        let x = Reference.randomValues(count: m * k, seed: 61)
        let w = Reference.randomValues(count: n * k, seed: 62, scale: 0.1)
        let bias = Reference.randomValues(count: n, seed: 63)
        let plain = try QuantisedLinearWeights(quantising: LinearWeights(weight: w, bias: bias, outputCount: n, inputCount: k),
                                               levels: levels, name: "test")
        let packed = try plain.packingForMatmul()
        #expect(plain.packed == nil && packed.packed != nil && packed.weight.isEmpty)
        let scratch = QuantisationScratch(rows: m, inputWidth: k, outputWidth: n)
        func run(_ weights: QuantisedLinearWeights, threads: Int) -> [Float] {
            Parallel.withThreads(threads) {
                var y = [Float](repeating: .nan, count: m * n)
                x.withUnsafeBufferPointer { x in y.withUnsafeMutableBufferPointer { y in
                    QuantisedLinear.apply(weights, input: x.baseAddress!, rows: m, scratch: scratch, into: y.baseAddress!,
                                          gelu: true)
                }}
                return y
            }
        }
        let expected = run(plain, threads: 1)
        #expect(run(packed, threads: 1) == expected)
        #expect(run(packed, threads: 2) == expected)
        #expect(expected.allSatisfy { $0.isFinite })
    }
}
