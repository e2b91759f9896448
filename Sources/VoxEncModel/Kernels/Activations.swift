// Element-wise kernels: exact-erf GELU, LayerNorm, softmax. Vectorised with SIMD16; a scalar tail.
// References: transformers ACT2FN["gelu"] = nn.functional.gelu (approximate="none"); nn.LayerNorm; torch softmax.

import Foundation

public enum GELU {
    static let inverseSquareRootTwo: Float = 0.70710678118654752440

    /// x ← x · ½ · (1 + erf(x / √2)) in place over `count` values (PyTorch's CPU GeluKernel, approximate="none").
    public static func applyInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let lanes = Vector16.scalarCount
        let vectorCount = count / lanes
        Parallel.forEachRange(vectorCount, minimumPerThread: 4096) { range in
            for i in range { gelu(Vector16.load(x + i * lanes)).store(to: x + i * lanes) }
        }
        for i in (vectorCount * lanes)..<count { x[i] = gelu(x[i]) }
    }

    /// x[r, :] ← GELU(x[r, :] + b) over [rows, columns]: a Linear layer's bias fused with its activation (one pass
    /// over the fc1 output instead of two). The sum is rounded to float32 first, as addmm then gelu do.
    /// A nil bias is GELU alone.
    public static func applyInPlace(_ x: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
                                    addingBias bias: UnsafePointer<Float>?) {
        guard let bias else { return applyInPlace(x, count: rows * columns) }
        let lanes = Vector16.scalarCount
        let vectorCount = columns / lanes
        Parallel.forEachRange(rows, minimumPerThread: 16) { range in
            for r in range {
                let row = x + r * columns
                for i in 0..<vectorCount {
                    gelu(Vector16.load(row + i * lanes) + Vector16.load(bias + i * lanes)).store(to: row + i * lanes)
                }
                for c in (vectorCount * lanes)..<columns { row[c] = gelu(row[c] + bias[c]) }
            }
        }
    }

    @inline(__always)
    static func gelu(_ value: Vector16) -> Vector16 {
        value * 0.5 * (1 + errorFunction(value * Vector16(repeating: inverseSquareRootTwo)))
    }

    /// torch's scalar tail: x * 0.5 * (1 + std::erf(x * M_SQRT1_2)).
    @inline(__always)
    static func gelu(_ value: Float) -> Float {
        value * 0.5 * (1 + Foundation.erf(value * inverseSquareRootTwo))
    }
}

public enum LayerNorm {
    /// output[r, :] = (x[r, :] − mean) / sqrt(var + eps) · γ + β for each of `rows` rows of width D.
    /// Two passes (mean, then squared deviations: no cancellation when |mean| ≫ std) in 16 float32 lanes, the lanes
    /// summed in float64; the biased variance, as nn.LayerNorm. In-place (output == input) is allowed.
    public static func apply(_ input: UnsafePointer<Float>, rows: Int, width: Int, weights: LayerNormWeights,
                             epsilon: Float, into output: UnsafeMutablePointer<Float>) {
        weights.weight.withUnsafeBufferPointer { gamma in
            weights.bias.withUnsafeBufferPointer { beta in
                let gamma = gamma.baseAddress!, beta = beta.baseAddress!
                Parallel.forEachRange(rows, minimumPerThread: 32) { range in
                    for r in range {
                        normaliseRow(input + r * width, width: width, gamma: gamma, beta: beta, epsilon: epsilon,
                                     into: output + r * width)
                    }
                }
            }
        }
    }

    /// The mean is kept as a float32 pair (high + low part), so x − mean stays exact to float32 rounding even when
    /// |mean| ≫ std; y = (x − mean) · rstd · γ + β.
    @inline(__always)
    static func normaliseRow(_ x: UnsafePointer<Float>, width: Int, gamma: UnsafePointer<Float>,
                             beta: UnsafePointer<Float>, epsilon: Float, into y: UnsafeMutablePointer<Float>) {
        let lanes = Vector16.scalarCount
        let vectorEnd = width / lanes * lanes
        var sums = Vector16()
        for c in Swift.stride(from: 0, to: vectorEnd, by: lanes) { sums += Vector16.load(x + c) }
        var sum = lanesInDouble(sums)
        for c in vectorEnd..<width { sum += Double(x[c]) }
        let mean = sum / Double(width)
        let meanHigh = Float(mean), meanLow = Float(mean - Double(meanHigh))
        let high = Vector16(repeating: meanHigh), low = Vector16(repeating: meanLow)
        var squares = Vector16()
        for c in Swift.stride(from: 0, to: vectorEnd, by: lanes) {
            let d = (Vector16.load(x + c) - high) - low
            squares = fusedMultiplyAdd(d, d, squares)
        }
        var squareSum = lanesInDouble(squares)
        for c in vectorEnd..<width {
            let d = Double(x[c]) - mean
            squareSum += d * d
        }
        let scale = Float(1 / (squareSum / Double(width) + Double(epsilon)).squareRoot())
        let scaleVector = Vector16(repeating: scale)
        for c in Swift.stride(from: 0, to: vectorEnd, by: lanes) {
            let normalised = ((Vector16.load(x + c) - high) - low) * scaleVector
            fusedMultiplyAdd(normalised, Vector16.load(gamma + c), Vector16.load(beta + c)).store(to: y + c)
        }
        for c in vectorEnd..<width { y[c] = ((x[c] - meanHigh) - meanLow) * scale * gamma[c] + beta[c] }
    }

    @inline(__always)
    static func lanesInDouble(_ v: Vector16) -> Double {
        var total = 0.0
        for i in 0..<Vector16.scalarCount { total += Double(v[i]) }
        return total
    }
}

public enum Softmax {
    /// x ← exp(x − max(x)) in place; returns Σ exp(x − max), the softmax's denominator, which the caller applies
    /// (attention divides its [R, Dh] output instead of the [R, T] probabilities).
    @inline(__always)
    public static func exponentiateRow(_ row: UnsafeMutablePointer<Float>, width: Int) -> Float {
        typealias V = SIMD8<Float>
        let lanes = V.scalarCount
        let vectorCount = width / lanes
        var maxima = V(repeating: -.infinity)
        for i in 0..<vectorCount {
            let v = V.load(row + i * lanes)
            maxima.replace(with: v, where: v .> maxima)
        }
        var maximum = maxima.max()
        for i in (vectorCount * lanes)..<width { maximum = Swift.max(maximum, row[i]) }
        let shift = V(repeating: maximum)
        var sums = V()
        for i in 0..<vectorCount {
            let e = exponentialOfNonPositive(V.load(row + i * lanes) - shift)
            e.store(to: row + i * lanes)
            sums += e
        }
        var sum = sums.sum()
        if vectorCount * lanes < width {
            var tail = V(repeating: -.infinity)
            for i in (vectorCount * lanes)..<width { tail[i - vectorCount * lanes] = row[i] - maximum }
            let e = exponentialOfNonPositive(tail)
            for i in (vectorCount * lanes)..<width {
                row[i] = e[i - vectorCount * lanes]
                sum += row[i]
            }
        }
        return sum
    }
}
