// Swift SIMD helpers for the loops that stay in Swift (int8 quantisation of activations and weights): unaligned
// load/store, lane-wise max/min and magnitude. Compare, blend and add only (no fused multiply-add, nothing that depends
// on the target's instruction set), so the baseline build is exact. The transcendental kernels (exp, erf, log10) are
// C with run-time dispatch: CVoxEncKernels.

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

extension Optional where Wrapped == [Float] {
    /// The array's first element's address, or nil: optional biases passed to the kernels.
    @inline(__always)
    func withUnsafePointer<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let self else { return body(nil) }
        return self.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
