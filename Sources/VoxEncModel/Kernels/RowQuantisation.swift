// Activations to u8 at run time, one scale per row (dynamic quantisation; docs/precision.md).
//   scale = max|x| / 127,  u = 128 + round(x / scale) ∈ [1, 255]  (round half to even),  x ≈ scale · (u − 128).
// Zero point 128 makes the u8 values a symmetric int8 code shifted into the unsigned range that x86's u8 × s8
// dot products want (IntegerGEMM.swift); the shift is removed exactly in int32 (QuantisedLinear).

public enum RowQuantisation {
    /// The zero point of every row.
    public static let zeroPoint: Int32 = 128
    /// Largest |u − zeroPoint|.
    public static let levels: Float = 127

    /// Quantises `width` floats into `output`; returns the row's scale (0 for a row of zeros, all codes 128).
    /// x · (127 / max) is rounded in float32, then to the nearest integer (ties to even).
    @inline(__always)
    public static func quantise(_ x: UnsafePointer<Float>, width: Int, into output: UnsafeMutablePointer<UInt8>) -> Float {
        let lanes = Vector16.scalarCount
        let vectorCount = width / lanes
        var maxima = Vector16()
        for i in 0..<vectorCount { maxima = Softmax.pointwiseMaximum(maxima, absolute(Vector16.load(x + i * lanes))) }
        var maximum = maxima.max()
        for i in (vectorCount * lanes)..<width { maximum = max(maximum, abs(x[i])) }
        guard maximum > 0 else {
            output.update(repeating: UInt8(zeroPoint), count: width)
            return 0
        }
        let inverse = levels / maximum
        // Adding 1.5·2²³ rounds to an integer (the FPU's ties-to-even) and leaves it in the low mantissa bits, so
        // the low byte of (v + 1.5·2²³ + 128) is 128 + round(v) for |v| ≤ 127 (the standard library's
        // float → integer vector conversions are not vectorised).
        let magic = Vector16(repeating: 12_582_912 + Float(zeroPoint))
        let scaled = Vector16(repeating: inverse)
        for i in 0..<vectorCount {
            let shifted = Vector16.load(x + i * lanes) * scaled + magic
            let codes = SIMD16<UInt8>(truncatingIfNeeded: unsafeBitCast(shifted, to: SIMD16<UInt32>.self))
            UnsafeMutableRawPointer(output + i * lanes).storeBytes(of: codes, as: SIMD16<UInt8>.self)
        }
        for i in (vectorCount * lanes)..<width {
            output[i] = UInt8(truncatingIfNeeded: Int32((x[i] * inverse).rounded(.toNearestOrEven)) + zeroPoint)
        }
        return maximum / levels
    }

    @inline(__always)
    static func absolute(_ v: Vector16) -> Vector16 {
        unsafeBitCast(unsafeBitCast(v, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: Vector16.self)
    }
}
