// Vectorised log10 for positive, normal float32 values (the mel energies, floored at 1e-10).
// Algorithm: Cephes log10f (S. L. Moshier): x = 2^e · m with m in [√½, √2), a degree-9 polynomial for ln(1 + f),
// and log10(2), log10(e) split into a short exact head and a tail. Peak relative error ≈ 1e-7 (≤ 1 ulp level),
// which is ≈ 2.5e-8 after the front end's (x + 4) / 4.

typealias FloatVector = SIMD8<Float>

/// a·b + c, fused where the build targets FMA hardware (one rounding), else a multiply and an add.
@inline(__always)
func multiplyAdd(_ a: FloatVector, _ b: FloatVector, _ c: FloatVector) -> FloatVector {
    #if VOXENC_FMA
    return c.addingProduct(a, b)
    #else
    return a * b + c
    #endif
}

@inline(__always)
func log10Positive(_ x: FloatVector) -> FloatVector {
    let bits = unsafeBitCast(x, to: SIMD8<UInt32>.self)
    var exponent = SIMD8<Int32>(truncatingIfNeeded: bits &>> 23) &- 127
    var mantissa = unsafeBitCast((bits & 0x007F_FFFF) | 0x3F80_0000, to: FloatVector.self)  // [1, 2)
    let large = mantissa .> 1.41421356237
    mantissa.replace(with: mantissa * 0.5, where: large)
    exponent.replace(with: exponent &+ 1, where: large)
    let f = mantissa - 1
    let f2 = f * f
    var p: FloatVector = FloatVector(repeating: 7.0376836292e-2)
    p = multiplyAdd(p, f, FloatVector(repeating: -1.1514610310e-1))
    p = multiplyAdd(p, f, FloatVector(repeating: 1.1676998740e-1))
    p = multiplyAdd(p, f, FloatVector(repeating: -1.2420140846e-1))
    p = multiplyAdd(p, f, FloatVector(repeating: 1.4249322787e-1))
    p = multiplyAdd(p, f, FloatVector(repeating: -1.6668057665e-1))
    p = multiplyAdd(p, f, FloatVector(repeating: 2.0000714765e-1))
    p = multiplyAdd(p, f, FloatVector(repeating: -2.4999993993e-1))
    p = multiplyAdd(p, f, FloatVector(repeating: 3.3333331174e-1))
    var y = f * (f2 * p)
    y = y - 0.5 * f2
    let e = FloatVector(exponent)
    // log10(1 + f) + e·log10(2), summed small terms first (Cephes order).
    var z = (f + y) * 7.00731903251827651129e-4  // log10(e) tail
    z = z + y * 4.3359375e-1  // log10(e) head
    z = z + f * 4.3359375e-1
    z = z + e * 2.48745663981195213739e-4  // log10(2) tail
    z = z + e * 3.0078125e-1  // log10(2) head
    return z
}
