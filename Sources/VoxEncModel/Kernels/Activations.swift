// Element-wise kernels: exact-erf GELU, LayerNorm, softmax. Vectorised with SIMD16; a scalar tail.
// References: transformers ACT2FN["gelu"] = nn.functional.gelu (approximate="none"); nn.LayerNorm; torch softmax.

import Foundation

public enum GELU {
    static let inverseSquareRootTwo: Float = 0.70710678118654752440

    /// x ← x · ½ · (1 + erf(x / √2)) in place over `count` values (PyTorch's CPU GeluKernel, approximate="none").
    public static func applyInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let lanes = Vector16.scalarCount
        let vectorCount = count / lanes
        let alpha = Vector16(repeating: inverseSquareRootTwo)
        Parallel.forEachRange(vectorCount, minimumPerThread: 4096) { range in
            for i in range {
                let value = Vector16.load(x + i * lanes)
                (value * 0.5 * (1 + errorFunction(value * alpha))).store(to: x + i * lanes)
            }
        }
        for i in (vectorCount * lanes)..<count {
            // torch's scalar tail: x * 0.5 * (1 + std::erf(x * M_SQRT1_2)).
            x[i] = x[i] * 0.5 * (1 + Foundation.erf(x[i] * inverseSquareRootTwo))
        }
    }
}

public enum LayerNorm {
    /// output[r, :] = (x[r, :] − mean) / sqrt(var + eps) · γ + β for each of `rows` rows of width D.
    /// Mean and (biased) variance accumulate in float64; in-place (output == input) is allowed.
    public static func apply(_ input: UnsafePointer<Float>, rows: Int, width: Int, weights: LayerNormWeights,
                             epsilon: Float, into output: UnsafeMutablePointer<Float>) {
        weights.weight.withUnsafeBufferPointer { gamma in
            weights.bias.withUnsafeBufferPointer { beta in
                Parallel.forEachRange(rows, minimumPerThread: 32) { range in
                for r in range {
                    let x = input + r * width
                    var sum = 0.0
                    for c in 0..<width { sum += Double(x[c]) }
                    let mean = sum / Double(width)
                    var squares = 0.0
                    for c in 0..<width {
                        let d = Double(x[c]) - mean
                        squares += d * d
                    }
                    let variance = squares / Double(width)
                    let scale = Float(1 / (variance + Double(epsilon)).squareRoot())
                    let shift = Float(-mean) * scale
                    let y = output + r * width
                    for c in 0..<width {
                        y[c] = (x[c] * scale + shift) * gamma[c] + beta[c]
                    }
                }
                }
            }
        }
    }
}

public enum Softmax {
    /// x ← exp(x − max(x)) in place; returns Σ exp(x − max), the softmax's denominator, which the caller applies
    /// (attention divides its [R, Dh] output instead of the [R, T] probabilities).
    @inline(__always)
    public static func exponentiateRow(_ row: UnsafeMutablePointer<Float>, width: Int) -> Float {
        let lanes = Vector16.scalarCount
        let vectorCount = width / lanes
        var maxima = Vector16(repeating: -.infinity)
        for i in 0..<vectorCount { maxima = pointwiseMaximum(maxima, Vector16.load(row + i * lanes)) }
        var maximum = maxima.max()
        for i in (vectorCount * lanes)..<width { maximum = Swift.max(maximum, row[i]) }
        let shift = Vector16(repeating: maximum)
        var sums = Vector16()
        for i in 0..<vectorCount {
            let e = exponential(Vector16.load(row + i * lanes) - shift)
            e.store(to: row + i * lanes)
            sums += e
        }
        var sum = sums.sum()
        if vectorCount * lanes < width {
            var tail = Vector16(repeating: -.infinity)
            for i in (vectorCount * lanes)..<width { tail[i - vectorCount * lanes] = row[i] - maximum }
            let e = exponential(tail)
            for i in (vectorCount * lanes)..<width {
                row[i] = e[i - vectorCount * lanes]
                sum += row[i]
            }
        }
        return sum
    }

    @inline(__always)
    static func pointwiseMaximum(_ a: Vector16, _ b: Vector16) -> Vector16 {
        var result = a
        result.replace(with: b, where: b .> a)
        return result
    }
}
