// Activations to u8 at run time, one scale and zero point per row (dynamic asymmetric quantisation;
// docs/precision.md):
//   lo = min(0, min x), hi = max(0, max x), scale = (hi − lo) / 255, z = round(−lo / scale) ∈ [0, 255],
//   u = clamp(round(x / scale + z), 0, 255)  (round half to even),  x ≈ scale · (u − z).
// The range always holds 0, so zeros are exact. Asymmetric rather than symmetric (z = 128): the inputs of fc2 and of
// the adapter's linear_2 are GELU outputs (≥ −0.17), where a symmetric code wastes half of its 256 levels; on the
// real Whisper tiny.en and base weights it cut the encoder's relative L2 to float32 by 8–28 %. u8 because x86's
// 8-bit dot products multiply unsigned by signed bytes (IntegerGEMM.swift).

public enum RowQuantisation {
    /// Codes per row: u ∈ [0, 255].
    public static let levels: Float = 255

    /// Quantises `width` floats into `output`; returns the row's scale and zero point (0 and 0 for a row of zeros).
    /// x · (255 / (hi − lo)) is rounded to float32, z added in float32, the sum clamped and rounded to an integer.
    @inline(__always)
    public static func quantise(_ x: UnsafePointer<Float>, width: Int,
                                into output: UnsafeMutablePointer<UInt8>) -> (scale: Float, zeroPoint: Int32) {
        let lanes = Vector16.scalarCount
        let vectorCount = width / lanes
        var minima = Vector16(), maxima = Vector16()
        for i in 0..<vectorCount {
            let v = Vector16.load(x + i * lanes)
            minima = minima.minimum(v)
            maxima = maxima.maximum(v)
        }
        var low = minima.min(), high = maxima.max()
        for i in (vectorCount * lanes)..<width {
            low = min(low, x[i])
            high = max(high, x[i])
        }
        let range = high - low
        guard range > 0 else {
            output.update(repeating: 0, count: width)
            return (0, 0)
        }
        let inverse = levels / range
        let zero = (-low * inverse).rounded(.toNearestOrEven)
        // Adding 1.5·2²³ to a value in [0, 255] rounds it to an integer (the FPU's ties-to-even) and leaves that
        // integer in the low mantissa bits, whose low byte is the code (the standard library's float → integer
        // vector conversions are not vectorised).
        let magic = Vector16(repeating: 12_582_912)
        let scaled = Vector16(repeating: inverse), shift = Vector16(repeating: zero)
        let floor = Vector16(), ceiling = Vector16(repeating: levels)
        for i in 0..<vectorCount {
            let v = Vector16.load(x + i * lanes) * scaled + shift
            let clamped = v.maximum(floor).minimum(ceiling)
            let bits = unsafeBitCast(clamped + magic, to: SIMD16<UInt32>.self)
            UnsafeMutableRawPointer(output + i * lanes).storeBytes(of: SIMD16<UInt8>(truncatingIfNeeded: bits),
                                                                   as: SIMD16<UInt8>.self)
        }
        for i in (vectorCount * lanes)..<width {
            let v = x[i] * inverse + zero
            output[i] = UInt8(min(max(v, 0), levels).rounded(.toNearestOrEven))
        }
        return (range / levels, Int32(zero))
    }
}
