// The deterministic test signals of Weights/tools/signals.py, rebuilt bit for bit (float64 arithmetic in the same
// order, then float32). The fixtures record each signal's float64 sum, so a drift here fails loudly.

import Foundation

public enum Signals {
    /// s ← (1103515245·s + 12345) mod 2³¹ before each sample; u = s/2³¹ − 0.5.
    public static func lcgUniform(count: Int, seed: Int) -> [Double] {
        var state = UInt64(seed)
        var out = [Double](repeating: 0, count: count)
        for n in 0..<count {
            state = (1_103_515_245 &* state &+ 12345) % (1 << 31)
            out[n] = Double(state) / Double(1 << 31) - 0.5
        }
        return out
    }

    public static func speechLike(count: Int, seed: Int) -> [Float] {
        var state = UInt64(seed)
        var y1 = 0.0, y2 = 0.0
        var out = [Float](repeating: 0, count: count)
        for n in 0..<count {
            state = (1_103_515_245 &* state &+ 12345) % (1 << 31)
            let e = Double(state) / Double(1 << 31) - 0.5
            let y = e + 1.3 * y1 - 0.6 * y2
            y2 = y1
            y1 = y
            let envelope = 1 - abs(Double((n % 4000) - 2000) / 2000)
            out[n] = Float(0.1 * envelope * y)
        }
        return out
    }

    public static func tones(count: Int) -> [Float] {
        (0..<count).map { n in
            let t = Double(n) / 16000.0
            let a = 0.3 * sin(2 * Double.pi * 440 * t) + 0.2 * sin(2 * Double.pi * 1000 * t)
            return Float(a + 0.1 * sin(2 * Double.pi * 3000 * t))
        }
    }

    /// Test A of docs/numerics.md (Front-end reference values).
    public static func testA() -> [Float] {
        (0..<16000).map { Float(0.5 * sin(2 * Double.pi * 440 * Double($0) / 16000)) }
    }

    /// Test B of docs/numerics.md (Front-end reference values).
    public static func testB() -> [Float] {
        (0..<720_000).map { n in
            let t = Double(n) / 16000
            return Float(0.1 * sin(2 * Double.pi * (300 * t + 20 * t * t)) + 0.05 * sin(2 * Double.pi * 1234.5 * t))
        }
    }

    /// Test C of docs/numerics.md (Front-end reference values).
    public static func testC() -> [Float] {
        lcgUniform(count: 40000, seed: 12345).map { Float($0 * 0.2) }
    }

    public static func nearSilence(count: Int, seed: Int) -> [Float] {
        lcgUniform(count: count, seed: seed).map { Float($0 * 2e-6) }
    }

    /// int16 codes round(32767·(a·sin(2πft) + 0.05·u)) at `rate`.
    public static func resamplerSource(rate: Int, seconds: Double, seed: Int, frequency: Double,
                                       amplitude: Double) -> [Int16] {
        let count = Int(Double(rate) * seconds)
        let noise = lcgUniform(count: count, seed: seed)
        return (0..<count).map { n in
            let v = amplitude * sin(2 * Double.pi * frequency * Double(n) / Double(rate)) + 0.05 * noise[n]
            return Int16((32767 * v).rounded(.toNearestOrEven))
        }
    }

    /// Rebuilds a signal from its fixture recipe (`frontend.json`). Files are returned as nil (decode them instead).
    public static func make(recipe: [String: JSONValue]) -> [Float]? {
        let count = recipe["count"]?.int ?? 0
        let seed = recipe["seed"]?.int ?? 0
        switch recipe["kind"]?.string {
        case "speech_like": return speechLike(count: count, seed: seed)
        case "tones": return tones(count: count)
        case "silence": return [Float](repeating: 0, count: count)
        case "near_silence": return nearSilence(count: count, seed: seed)
        case "test_a": return testA()
        case "test_b": return testB()
        case "test_c": return testC()
        default: return nil
        }
    }
}

/// A small deterministic generator (SplitMix64): tests draw random bytes, positions and times from a fixed seed, so
/// a failure repeats.
public struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
