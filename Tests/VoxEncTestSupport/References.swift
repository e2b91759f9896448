// Slow, obvious oracles for the fast kernels (llm.c's dev/ "validate, then time"): double precision, plain loops,
// PyTorch layouts. Never used by the library.

import Foundation

public enum Reference {
    /// C[m, n] = A[m, k] · B[n, k]ᵀ in float64.
    public static func matmulTransposed(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k { sum += Double(a[i * k + p]) * Double(b[j * k + p]) }
                c[i * n + j] = Float(sum)
            }
        }
        return c
    }

    /// torch.nn.functional.conv1d(x [in, T], w [out, in, 3], b, stride, padding=1) → [out, Tout] (channel-major).
    public static func conv1d(_ x: [Float], channels: Int, frames: Int, weight: [Float], bias: [Float], outputs: Int,
                              stride: Int) -> [Float] {
        let outFrames = (frames + 2 - 3) / stride + 1
        var y = [Float](repeating: 0, count: outputs * outFrames)
        for o in 0..<outputs {
            for t in 0..<outFrames {
                var sum = Double(bias[o])
                for i in 0..<channels {
                    for k in 0..<3 {
                        let s = stride * t + k - 1
                        if s >= 0 && s < frames { sum += Double(weight[(o * channels + i) * 3 + k]) * Double(x[i * frames + s]) }
                    }
                }
                y[o * outFrames + t] = Float(sum)
            }
        }
        return y
    }

    public static func gelu(_ x: Float) -> Float {
        let v = Double(x)
        return Float(v * 0.5 * (1 + Foundation.erf(v / 2.0.squareRoot())))
    }

    public static func layerNorm(_ x: [Float], rows: Int, width: Int, gamma: [Float], beta: [Float], epsilon: Double) -> [Float] {
        var y = x
        for r in 0..<rows {
            let row = x[(r * width)..<((r + 1) * width)].map(Double.init)
            let mean = row.reduce(0, +) / Double(width)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(width)
            for c in 0..<width {
                y[r * width + c] = Float((row[c] - mean) / (variance + epsilon).squareRoot() * Double(gamma[c]) + Double(beta[c]))
            }
        }
        return y
    }

    public static func softmax(_ x: [Float]) -> [Float] {
        let maximum = x.map(Double.init).max() ?? 0
        let e = x.map { Foundation.exp(Double($0) - maximum) }
        let sum = e.reduce(0, +)
        return e.map { Float($0 / sum) }
    }

    /// Multi-head attention from x [T, D] with PyTorch-layout projections (q/v/out with bias, k without), no mask.
    public static func selfAttention(_ x: [Float], frames: Int, width: Int, heads: Int, wq: [Float], bq: [Float],
                                     wk: [Float], wv: [Float], bv: [Float], wo: [Float], bo: [Float]) -> [Float] {
        let dh = width / heads
        let scale = 1 / Double(dh).squareRoot()
        func project(_ w: [Float], _ b: [Float]?) -> [Double] {
            var y = [Double](repeating: 0, count: frames * width)
            for t in 0..<frames {
                for o in 0..<width {
                    var sum = b.map { Double($0[o]) } ?? 0
                    for i in 0..<width { sum += Double(w[o * width + i]) * Double(x[t * width + i]) }
                    y[t * width + o] = sum
                }
            }
            return y
        }
        let q = project(wq, bq).map { $0 * scale }, k = project(wk, nil), v = project(wv, bv)
        var attended = [Double](repeating: 0, count: frames * width)
        for h in 0..<heads {
            for t in 0..<frames {
                var scores = (0..<frames).map { s in (0..<dh).reduce(0.0) { $0 + q[t * width + h * dh + $1] * k[s * width + h * dh + $1] } }
                let maximum = scores.max()!
                scores = scores.map { Foundation.exp($0 - maximum) }
                let sum = scores.reduce(0, +)
                for j in 0..<dh {
                    attended[t * width + h * dh + j] = (0..<frames).reduce(0.0) { $0 + scores[$1] / sum * v[$1 * width + h * dh + j] }
                }
            }
        }
        var y = [Float](repeating: 0, count: frames * width)
        for t in 0..<frames {
            for o in 0..<width {
                var sum = Double(bo[o])
                for i in 0..<width { sum += Double(wo[o * width + i]) * attended[t * width + i] }
                y[t * width + o] = Float(sum)
            }
        }
        return y
    }

    // MARK: - int8 (docs/precision.md): the definition, in plain loops

    /// One activation row to u8 codes, per RowQuantisation's definition, with the same float32 operations:
    /// lo = min(0, min x), hi = max(0, max x), inverse = 255 / (hi − lo), z = round(−lo · inverse),
    /// u = round(clamp(x · inverse + z, 0, 255)), ties to even. Returns the codes, scale (hi − lo) / 255 and z.
    public static func quantiseRow(_ x: [Float]) -> (codes: [UInt8], scale: Float, zeroPoint: Int) {
        var low: Float = 0, high: Float = 0
        for v in x { low = min(low, v); high = max(high, v) }
        let range = high - low
        if range == 0 { return ([UInt8](repeating: 0, count: x.count), 0, 0) }
        let inverse: Float = 255 / range
        let zero = (-low * inverse).rounded(.toNearestOrEven)
        var codes: [UInt8] = []
        for v in x {
            let shifted: Float = v * inverse + zero
            codes.append(UInt8(min(max(shifted, 0), 255).rounded(.toNearestOrEven)))
        }
        return (codes, range / 255, Int(zero))
    }

    /// Weight rows [n, k] to ±levels, symmetric per row: scale = max|w| / levels, q = round(w · (levels / max|w|)),
    /// the product rounded to float32, then to an integer (ties to even).
    public static func quantiseWeights(_ w: [Float], n: Int, k: Int, levels: Int) -> (q: [Int8], scales: [Float]) {
        var q = [Int8](repeating: 0, count: n * k), scales = [Float](repeating: 0, count: n)
        for j in 0..<n {
            var maximum: Float = 0
            for i in 0..<k { maximum = max(maximum, abs(w[j * k + i])) }
            scales[j] = maximum / Float(levels)
            if maximum > 0 {
                let inverse = Float(levels) / maximum
                for i in 0..<k {
                    let product: Float = w[j * k + i] * inverse
                    q[j * k + i] = Int8(product.rounded(.toNearestOrEven))
                }
            }
        }
        return (q, scales)
    }

    /// y[m, n] = a[i] · s[j] · Σ_k (u[i, k] − z[i]) · q[j, k] + b[j]: quantise each row of x [m, k] (quantiseRow),
    /// integer dot products with q [n, k], dequantised in float64.
    public static func int8MatmulTransposed(_ x: [Float], q: [Int8], scales: [Float], bias: [Float]?,
                                            m: Int, n: Int, k: Int) -> [Float] {
        var y = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            let (codes, rowScale, zero) = quantiseRow(Array(x[(i * k)..<((i + 1) * k)]))
            for j in 0..<n {
                var dot = 0
                for p in 0..<k { dot += (Int(codes[p]) - zero) * Int(q[j * k + p]) }
                y[i * n + j] = Float(Double(dot) * Double(rowScale) * Double(scales[j]) + Double(bias?[j] ?? 0))
            }
        }
        return y
    }

    /// Deterministic uniform values in [−scale, scale) (LCG), for kernel tests.
    public static func randomValues(count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var state = seed &* 6364136223846793005 &+ 1442695040888963407
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
        }
    }
}
