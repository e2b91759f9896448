// Vectorised float32 transcendental functions for the encoder's element-wise kernels.
//   exp: Cephes expf (range reduction by ln 2 in two parts, degree-5 polynomial), ≤ 1 ulp on [-87.3, 88.7].
//   erf: the same formula as PyTorch's own vectorised CPU erf (ATen vec512/vec256 `Vectorized<float>::erf`,
//        Abramowitz & Stegun 7.1.26, max abs error 1.5e-7), which nn.functional.gelu uses on CPU. Mirroring it keeps
//        voxenc's exact-erf GELU within float32 rounding of the reference's.

public typealias Vector16 = SIMD16<Float>

extension SIMD where Scalar == Float {
    /// Loads `scalarCount` floats from any address (no alignment assumed).
    @inline(__always)
    static func load(_ pointer: UnsafePointer<Float>) -> Self {
        UnsafeRawPointer(pointer).loadUnaligned(as: Self.self)
    }
    @inline(__always)
    static func load(_ pointer: UnsafeMutablePointer<Float>) -> Self {
        UnsafeRawPointer(pointer).loadUnaligned(as: Self.self)
    }
    /// Stores `scalarCount` floats to any address.
    @inline(__always)
    func store(to pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: self, as: Self.self)
    }
}

// On a concrete vector type, not generically over SIMD: the generic `replace(with:where:)` compiles to a branch per
// lane (measured: the softmax's max pass 15× slower), the concrete one to a compare and a blend.
extension SIMD16 where Scalar == Float {
    /// Lane-wise maximum and minimum: `self`'s lane unless `other`'s is larger (smaller); a NaN in `other` never wins.
    @inline(__always)
    func maximum(_ other: Self) -> Self {
        var result = self
        result.replace(with: other, where: other .> self)
        return result
    }
    @inline(__always)
    func minimum(_ other: Self) -> Self {
        var result = self
        result.replace(with: other, where: other .< self)
        return result
    }

    /// |v| per lane, by clearing the sign bits.
    @inline(__always)
    var magnitude: Self {
        unsafeBitCast(unsafeBitCast(self, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: Self.self)
    }
}

/// a · b + c, fused where the build targets FMA (a scalar libm call per lane otherwise: not what a loop wants).
@inline(__always)
func fusedMultiplyAdd<V: SIMD>(_ a: V, _ b: V, _ c: V) -> V where V.Scalar: FloatingPoint {
    #if VOXENC_FMA
    return c.addingProduct(a, b)
    #else
    return a * b + c
    #endif
}

/// e^x for each lane; 0 below −87.3, +inf above 88.72.
@inline(__always)
public func exponential(_ x: Vector16) -> Vector16 {
    var v = x
    v.replace(with: Vector16(repeating: 88.3762626647949), where: v .> 88.3762626647949)
    let underflow = v .< -87.3365447504019
    v.replace(with: Vector16(repeating: -87.3365447504019), where: underflow)
    var result = Vector16(lowHalf: cephesExponential(v.lowHalf), highHalf: cephesExponential(v.highHalf))
    result.replace(with: 0, where: underflow)
    return result
}

/// e^x for x ≤ 0 (softmax after the max shift). Inputs below −87.34 give the smallest normal float (≈ 1.2e−38)
/// instead of 0: nothing in a softmax whose sum is ≥ 1, and one clamp instead of a compare and two blends.
@inline(__always)
func exponentialOfNonPositive(_ x: SIMD8<Float>) -> SIMD8<Float> {
    var v = x
    v.replace(with: SIMD8(repeating: -87.3365447504019), where: v .< -87.3365447504019)
    return cephesExponential(v)
}

/// Cephes expf on x in [−87.34, 88.38] (the callers clamp), 8 lanes: one AVX register per value, so the
/// polynomial's constants and temporaries stay in registers.
@inline(__always)
func cephesExponential(_ v: SIMD8<Float>) -> SIMD8<Float> {
    typealias V = SIMD8<Float>
    // n = round(x / ln 2); r = x − n·ln 2 (ln 2 split in two for accuracy).
    // Rounding and float→int through the 1.5·2²³ "magic number" (exact for |n| < 2²²): the generic SIMD
    // conversions of the standard library are not vectorised.
    let magic = V(repeating: 12_582_912)
    let shifted = v * 1.44269504088896341 + magic
    let n = shifted - magic
    var r = fusedMultiplyAdd(n, V(repeating: -0.693359375), v)
    r = fusedMultiplyAdd(n, V(repeating: 2.12194440e-4), r)
    let r2 = r * r
    var p = V(repeating: 1.9875691500e-4)
    p = fusedMultiplyAdd(p, r, V(repeating: 1.3981999507e-3))
    p = fusedMultiplyAdd(p, r, V(repeating: 8.3334519073e-3))
    p = fusedMultiplyAdd(p, r, V(repeating: 4.1665795894e-2))
    p = fusedMultiplyAdd(p, r, V(repeating: 1.6666665459e-1))
    p = fusedMultiplyAdd(p, r, V(repeating: 5.0000001201e-1))
    p = fusedMultiplyAdd(p, r2, r) + 1
    // Scale by 2^n through the exponent bits.
    let integer = unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- 0x4B40_0000
    let exponentBits = (integer &+ 127) &<< 23
    return p * unsafeBitCast(exponentBits, to: V.self)
}

/// erf(x), PyTorch's vectorised CPU formula: sign(x)·(1 − r(t)·t·e^(−x²)), t = 1 / (1 + p·|x|).
@inline(__always)
public func errorFunction(_ x: Vector16) -> Vector16 {
    let signBits = unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x8000_0000
    let absolute = x.magnitude
    let t = 1 / fusedMultiplyAdd(Vector16(repeating: 0.3275911), absolute, Vector16(repeating: 1))
    var r = fusedMultiplyAdd(Vector16(repeating: 1.061405429), t, Vector16(repeating: -1.453152027))
    r = fusedMultiplyAdd(r, t, Vector16(repeating: 1.421413741))
    r = fusedMultiplyAdd(r, t, Vector16(repeating: -0.284496736))
    r = fusedMultiplyAdd(r, t, Vector16(repeating: 0.254829592))
    let negativeSquare = -(x * x)
    let e = -exponential(negativeSquare)
    let value = fusedMultiplyAdd(e * t, r, Vector16(repeating: 1))
    return unsafeBitCast(unsafeBitCast(value, to: SIMD16<UInt32>.self) ^ signBits, to: Vector16.self)
}

extension Optional where Wrapped == [Float] {
    /// The array's first element's address, or nil: optional biases passed to the kernels.
    @inline(__always)
    func withUnsafePointer<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let self else { return body(nil) }
        return self.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
