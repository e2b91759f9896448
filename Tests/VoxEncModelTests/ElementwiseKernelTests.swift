// Every instruction set's copy of the C element-wise kernels (CVoxEncKernels) against a slow, obvious float64 oracle
// (libm erf/exp), on odd widths and values over the whole float range; then the copies against each other. Each ISA's
// suite is skipped, with the reason, where this CPU cannot run it. The log-mel kernels: VoxEncAudioTests.

import CVoxEncKernels
import Foundation
import Testing
@testable import VoxEncModel
import VoxEncTestSupport

/// One kernel's check against its oracle, run on one ISA's copy.
enum ElementwiseCheck: String, CaseIterable, Sendable {
    case gelu, geluWithBias, dequantise, dequantiseGELU, softmax, layerNorm, exponential, roundBFloat16, swiGLU

    static let widths = [1, 15, 16, 17, 1283]

    func run(on path: KernelPath) {
        switch self {
        case .gelu:
            for width in Self.widths + [4801] {
                let x = KernelPath.wideRange(count: width, seed: UInt64(width), scale: 12)
                var y = x
                y.withUnsafeMutableBufferPointer { path.gelu($0.baseAddress!, width) }
                expectGELU(y, oracle: x, path: path, width: width)
            }
        case .geluWithBias:
            for columns in Self.widths {
                let rows = 3
                let x = KernelPath.wideRange(count: rows * columns, seed: 21, scale: 6)
                let bias = Reference.randomValues(count: columns, seed: 22, scale: 2)
                var y = x
                y.withUnsafeMutableBufferPointer { y in
                    bias.withUnsafeBufferPointer { path.geluBiasRows(y.baseAddress!, rows, columns, $0.baseAddress!) }
                }
                // The sum is rounded to float32 first (addmm, then gelu), so the oracle starts from it.
                expectGELU(y, oracle: x.indices.map { x[$0] + bias[$0 % columns] }, path: path, width: columns)
            }
        case .dequantise, .dequantiseGELU:
            for width in Self.widths {
                let gelu = self == .dequantiseGELU
                for (accumulate, hasBias) in [(false, false), (true, true), (false, true)] {
                    checkDequantise(path, width: width, accumulate: accumulate, hasBias: hasBias, gelu: gelu)
                }
            }
        case .softmax:
            for width in [1, 7, 8, 15, 16, 17, 24, 1283, 1500] {
                var x = Reference.randomValues(count: width, seed: UInt64(width) + 30, scale: 20)
                if width > 2 { x[width / 2] = -200; x[width - 1] = 60 }  // far below the max: clamped exp
                var y = x
                let sum = y.withUnsafeMutableBufferPointer { path.softmaxRow($0.baseAddress!, width) }
                let maximum = x.map(Double.init).max()!
                let expectedSum = x.reduce(0.0) { $0 + Foundation.exp(Double($1) - maximum) }
                #expect(abs(Double(sum) - expectedSum) <= ElementwiseTolerance.softmaxSumRelative * expectedSum,
                        "\(path) width \(width): Σ \(sum) vs \(expectedSum)")
                let d = Discrepancy(y.map { $0 / sum }, Reference.softmax(x))
                #expect(d.maxAbsolute <= ElementwiseTolerance.softmaxAbsolute, "\(path) width \(width): \(d)")
                // The bf16 variant, in place as attention runs it: the same sum, and each exponential rounded to
                // its nearest bf16 (the oracle below).
                var z = x
                let sumBFloat16 = z.withUnsafeMutableBufferPointer { z in
                    path.softmaxRowBFloat16(z.baseAddress!, width,
                                            UnsafeMutableRawPointer(z.baseAddress!).assumingMemoryBound(to: UInt16.self))
                }
                #expect(sumBFloat16 == sum, "\(path) width \(width): bf16 variant's sum \(sumBFloat16) vs \(sum)")
                let rounded = z.withUnsafeBytes { Array($0.bindMemory(to: UInt16.self).prefix(width)) }
                #expect(rounded == y.map(Self.nearestBFloat16), "\(path) width \(width): bf16 exponentials")
            }
        case .layerNorm:
            for (width, offset) in Self.widths.map({ ($0, Float(0)) }) + [(1283, 300), (1280, -50)] {
                let rows = 3
                let x = Reference.randomValues(count: rows * width, seed: 40, scale: 3).map { $0 + offset }
                let gamma = Reference.randomValues(count: width, seed: 41).map { 1 + $0 * 0.1 }
                let beta = Reference.randomValues(count: width, seed: 42)
                var y = [Float](repeating: .nan, count: x.count)
                x.withUnsafeBufferPointer { x in gamma.withUnsafeBufferPointer { g in beta.withUnsafeBufferPointer { b in
                    y.withUnsafeMutableBufferPointer {
                        path.layerNormRows(x.baseAddress!, rows, width, g.baseAddress!, b.baseAddress!, 1e-5, $0.baseAddress!)
                    }
                }}}
                let d = Discrepancy(y, Reference.layerNorm(x, rows: rows, width: width, gamma: gamma, beta: beta, epsilon: 1e-5))
                let tolerance = abs(offset) > 100 ? ElementwiseTolerance.layerNormFarMeanAbsolute : ElementwiseTolerance.layerNormAbsolute
                #expect(d.maxAbsolute <= tolerance, "\(path) width \(width) mean \(offset): \(d)")
            }
        case .exponential:
            let x = (0..<17_551).map { Float($0) / 100 - 87.5 }  // odd count: a padded tail
            var y = [Float](repeating: .nan, count: x.count)
            x.withUnsafeBufferPointer { x in y.withUnsafeMutableBufferPointer { path.exp(x.baseAddress!, $0.baseAddress!, x.count) } }
            var worst = 0.0
            for i in x.indices {
                let expected = Foundation.exp(Double(x[i]))
                if expected > 1e-37 { worst = max(worst, abs(Double(y[i]) - expected) / expected) }
            }
            #expect(worst <= ElementwiseTolerance.exponentialRelative, "\(path): worst relative error \(worst)")
            let edges: [Float] = [-1000, -.infinity, 100, .infinity, 0]
            var e = [Float](repeating: .nan, count: edges.count)
            edges.withUnsafeBufferPointer { x in e.withUnsafeMutableBufferPointer { path.exp(x.baseAddress!, $0.baseAddress!, x.count) } }
            #expect(e[0] == 0 && e[1] == 0 && e[4] == 1, "\(path): \(e)")
            #expect(e[2] == e[3] && e[2] > 2.4e38, "\(path): clamped at 88.38: \(e)")
        case .roundBFloat16:
            checkRoundBFloat16(path)
        case .swiGLU:
            for width in Self.widths {
                let rows = 3
                let gateUp = KernelPath.wideRange(count: rows * 2 * width, seed: UInt64(width) + 80, scale: 12)
                    .map { max(-1e4, min(1e4, $0)) }  // the product g · u stays finite
                var y = [Float](repeating: .nan, count: rows * width)
                gateUp.withUnsafeBufferPointer { x in
                    y.withUnsafeMutableBufferPointer { path.swiGLURows(x.baseAddress!, rows, width, $0.baseAddress!) }
                }
                var worst = (ratio: 0.0, index: 0, got: 0.0, expected: 0.0)
                for r in 0..<rows {
                    for i in 0..<width {
                        let g = Double(gateUp[r * 2 * width + i]), u = Double(gateUp[r * 2 * width + width + i])
                        let expected = g / (1 + Foundation.exp(-g)) * u  // the slow, obvious form in float64
                        let error = abs(Double(y[r * width + i]) - expected)
                        // Below float32's normal range the quotient's rounding is absolute (≈ 1e-45 steps).
                        let bound = ElementwiseTolerance.swiGLURelative.value * abs(expected) + Double(Float.leastNormalMagnitude)
                        if error / bound > worst.ratio { worst = (error / bound, r * width + i, Double(y[r * width + i]), expected) }
                    }
                }
                #expect(worst.ratio * ElementwiseTolerance.swiGLURelative.value <= ElementwiseTolerance.swiGLURelative, "\(path) width \(width): worst at \(worst.index): \(worst.got) vs \(worst.expected) (\(worst.ratio)× the bound); first \(y.prefix(4))")
            }
        }
    }

    /// The nearest bf16 by value, found the slow way: the two bf16 neighbours of x (truncation and the next one away
    /// from zero), compared in float64; a tie goes to the even one; past the largest bf16 the upper neighbour is
    /// 2¹²⁸ (IEEE's rule for rounding to infinity). NaN: a quiet NaN of the same sign.
    static func nearestBFloat16(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        if x.isNaN { return UInt16(bits >> 16) | 0x40 }
        if x.isInfinite { return UInt16(bits >> 16) }
        let below = UInt16(bits >> 16), above = below + 1  // magnitudes: |below| ≤ |x| < |above|
        func value(_ h: UInt16) -> Double {
            h & 0x7FFF == 0x7F80 ? Double(sign: x.sign, exponent: 128, significand: 1)
                : Double(Float(bitPattern: UInt32(h) << 16))
        }
        let toBelow = abs(Double(x) - value(below)), toAbove = abs(value(above) - Double(x))
        if toBelow != toAbove { return toBelow < toAbove ? below : above }
        return below & 1 == 0 ? below : above
    }

    private func checkRoundBFloat16(_ path: KernelPath) {
        // Ties (both parities), just off ties, the largest finite values (one rounds to infinity), denormals, ±0, ±inf
        // and NaNs (one whose payload would round into infinity if treated as a number).
        let special: [UInt32] = [0x3F80_8000, 0x3F81_8000, 0x3F80_8001, 0x3F80_7FFF, 0x7F7F_FFFF, 0x7F7F_7FFF,
                                 0xFF7F_8000, 0x0000_0001, 0x0000_8000, 0x0001_8000, 0x807F_FFFF, 0, 0x8000_0000,
                                 0x7F80_0000, 0xFF80_0000, 0x7FFF_FFFF, 0x7F80_0001, 0xFFC0_0000]
        for (rows, columns, ldx, ldy) in [(1, 1, 1, 1), (3, 15, 17, 16), (2, 17, 17, 20), (3, 1283, 1290, 1283)] {
            var x = KernelPath.wideRange(count: rows * ldx, seed: UInt64(columns), scale: 50)
            for (i, bits) in special.enumerated() where i < x.count { x[(i * 7) % x.count] = Float(bitPattern: bits) }
            var y = [UInt16](repeating: 0xDEAD, count: rows * ldy)
            x.withUnsafeBufferPointer { x in y.withUnsafeMutableBufferPointer {
                path.roundBFloat16Rows(x.baseAddress!, rows, columns, ldx, $0.baseAddress!, ldy)
            }}
            for r in 0..<rows {
                for c in 0..<ldy {
                    let got = y[r * ldy + c]
                    if c >= columns { #expect(got == 0xDEAD, "\(path): wrote past the row at [\(r), \(c)]"); continue }
                    let input = x[r * ldx + c]
                    let expected = Self.nearestBFloat16(input)
                    #expect(got == expected, "\(path) [\(r), \(c)] of [\(rows), \(columns)]: bf16(\(input), bits \(String(input.bitPattern, radix: 16))) = \(String(got, radix: 16)), expected \(String(expected, radix: 16))")
                }
            }
            // In place, as attention rounds its probabilities (a row of bf16 over the first half of a row of floats):
            // the same values.
            var buffer = x
            buffer.withUnsafeMutableBufferPointer { b in
                let raw = UnsafeMutableRawPointer(b.baseAddress!)
                path.roundBFloat16Rows(b.baseAddress!, rows, columns, ldx, raw.assumingMemoryBound(to: UInt16.self), ldx)
                let half = raw.assumingMemoryBound(to: UInt16.self)
                for r in 0..<rows {
                    for c in 0..<columns {
                        #expect(half[r * ldx + c] == Self.nearestBFloat16(x[r * ldx + c]), "\(path) in place [\(r), \(c)]")
                    }
                }
            }
        }
    }

    private func expectGELU(_ y: [Float], oracle x: [Float], path: KernelPath, width: Int) {
        var failures = 0, first = ""
        for i in x.indices {
            let expected = Double(Reference.gelu(x[i]))
            let bound = Tolerance.combined(ElementwiseTolerance.geluAbsolute, ElementwiseTolerance.geluRelative, of: abs(expected))
            if !(abs(Double(y[i]) - expected) <= bound) {
                if failures == 0 { first = "x \(x[i]) → \(y[i]), expected \(expected)" }
                failures += 1
            }
        }
        #expect(failures == 0, "\(path) width \(width): \(failures) values off, first: \(first)")
    }

    private func checkDequantise(_ path: KernelPath, width: Int, accumulate: Bool, hasBias: Bool, gelu: Bool) {
        var state: UInt64 = UInt64(width) &* 977
        func next() -> Int32 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int32(truncatingIfNeeded: Int64(state >> 44) - (1 << 19))  // ±524288
        }
        let c = (0..<width).map { _ in next() }
        let sums = (0..<width).map { _ in next() / 64 }
        let scales = Reference.randomValues(count: width, seed: 51).map { abs($0) * 1e-3 + 1e-5 }
        let bias = Reference.randomValues(count: width, seed: 52, scale: 3)
        let residual = Reference.randomValues(count: width, seed: 53, scale: 5)
        let rowScale: Float = 0.0123, zeroPoint: Int32 = 117
        var y = residual
        c.withUnsafeBufferPointer { c in sums.withUnsafeBufferPointer { s in scales.withUnsafeBufferPointer { sc in
            bias.withUnsafeBufferPointer { b in y.withUnsafeMutableBufferPointer { y in
                path.dequantiseRow(c.baseAddress!, rowScale, zeroPoint, sc.baseAddress!, s.baseAddress!,
                                   hasBias ? b.baseAddress! : nil, width, y.baseAddress!, accumulate, gelu)
            }}
        }}}
        for j in 0..<width {
            let product = Double(Int64(c[j]) - Int64(sums[j]) * Int64(zeroPoint)) * Double(rowScale) * Double(scales[j])
            let terms = [product, hasBias ? Double(bias[j]) : 0, accumulate ? Double(residual[j]) : 0]
            let linear = terms.reduce(0, +)
            let linearBound = ElementwiseTolerance.dequantiseRelative * terms.map(abs).reduce(0, +)
            if gelu {
                // GELU's slope is ≤ 1.13: the linear part's error passes through at most that much.
                let expected = Double(Reference.gelu(Float(linear)))
                let bound = 1.13 * linearBound.value + ElementwiseTolerance.geluAbsolute.value + ElementwiseTolerance.geluRelative.value * abs(expected)
                #expect(abs(Double(y[j]) - expected) <= bound, "\(path) width \(width) column \(j): \(y[j]) vs \(expected)")
            } else {
                #expect(abs(Double(y[j]) - linear) <= linearBound, "\(path) width \(width) column \(j): \(y[j]) vs \(linear)")
            }
        }
    }
}

@Suite("C element-wise kernels, avx512 copy, against float64 oracles")
struct AVX512KernelTests {
    @Test(arguments: ElementwiseCheck.allCases) func kernel(_ check: ElementwiseCheck) throws {
        try RouteCoverage.require(KernelPath.avx512)  // a copy this CPU cannot run: skipped with the reason
        check.run(on: .avx512)
        RouteCoverage.ran(KernelPath.avx512)
    }
}

@Suite("C element-wise kernels, avx2 copy, against float64 oracles")
struct AVX2KernelTests {
    @Test(arguments: ElementwiseCheck.allCases) func kernel(_ check: ElementwiseCheck) throws {
        try RouteCoverage.require(KernelPath.avx2)  // a copy this CPU cannot run: skipped with the reason
        check.run(on: .avx2)
        RouteCoverage.ran(KernelPath.avx2)
    }
}

@Suite("C element-wise kernels, sse2 (baseline) copy, against float64 oracles")
struct SSE2KernelTests {
    @Test(arguments: ElementwiseCheck.allCases) func kernel(_ check: ElementwiseCheck) throws {
        try RouteCoverage.require(KernelPath.sse2)  // a copy this CPU cannot run: skipped with the reason
        check.run(on: .sse2)
        RouteCoverage.ran(KernelPath.sse2)
    }
}

/// Each kernel run on the same inputs by two copies; returns the outputs (softmax's sum appended).
private func outputs(of path: KernelPath) -> [String: [Float]] {
    var result: [String: [Float]] = [:]
    let width = 1283, rows = 3
    let x = KernelPath.wideRange(count: rows * width, seed: 61, scale: 12)
    let bias = Reference.randomValues(count: width, seed: 62, scale: 2)
    var y = x
    y.withUnsafeMutableBufferPointer { path.gelu($0.baseAddress!, $0.count) }
    result["gelu"] = y
    y = x
    y.withUnsafeMutableBufferPointer { y in bias.withUnsafeBufferPointer { path.geluBiasRows(y.baseAddress!, rows, width, $0.baseAddress!) } }
    result["geluWithBias"] = y
    y = Reference.randomValues(count: width, seed: 63, scale: 20)
    let sum = y.withUnsafeMutableBufferPointer { path.softmaxRow($0.baseAddress!, width) }
    result["softmax"] = y + [sum]
    let z = Reference.randomValues(count: rows * width, seed: 64, scale: 3).map { $0 + 10 }
    let gamma = Reference.randomValues(count: width, seed: 65).map { 1 + $0 * 0.1 }
    y = z
    y.withUnsafeMutableBufferPointer { y in gamma.withUnsafeBufferPointer { g in bias.withUnsafeBufferPointer { b in
        path.layerNormRows(y.baseAddress!, rows, width, g.baseAddress!, b.baseAddress!, 1e-5, y.baseAddress!)
    }}}
    result["layerNorm"] = y
    let c = (0..<width).map { Int32($0 * 7919 % 20011) - 10000 }
    let sums = (0..<width).map { Int32($0 % 97) - 48 }
    y = Reference.randomValues(count: width, seed: 66)
    c.withUnsafeBufferPointer { c in sums.withUnsafeBufferPointer { s in gamma.withUnsafeBufferPointer { g in
        bias.withUnsafeBufferPointer { b in y.withUnsafeMutableBufferPointer { y in
            path.dequantiseRow(c.baseAddress!, 0.0007, 100, g.baseAddress!, s.baseAddress!, b.baseAddress!, width,
                               y.baseAddress!, true, true)
        }}
    }}}
    result["dequantiseGELU"] = y
    y = [Float](repeating: .nan, count: rows * width)
    let gateUp = KernelPath.wideRange(count: rows * 2 * width, seed: 67, scale: 12).map { max(-1e4, min(1e4, $0)) }
    gateUp.withUnsafeBufferPointer { x in y.withUnsafeMutableBufferPointer { path.swiGLURows(x.baseAddress!, rows, width, $0.baseAddress!) } }
    result["swiGLU"] = y
    return result
}

@Suite("C element-wise kernels: the copies agree")
struct KernelPathAgreementTests {
    @Test("avx512 and avx2 give identical bits (same fused multiply-adds, same summation order)",
          .enabled(if: KernelPath.avx512.isSupported, Comment(rawValue: KernelPath.avx512Missing)))
    func avx512MatchesAVX2() {
        let a = outputs(of: .avx512), b = outputs(of: .avx2)
        for (name, values) in a {
            let other = b[name]!
            #expect(values.map(\.bitPattern) == other.map(\.bitPattern), "\(name): \(Discrepancy(values, other))")
        }
    }

    @Test("sse2 (no FMA) within a few ulp of avx2", .enabled(if: KernelPath.avx2.isSupported, Comment(rawValue: KernelPath.avx2Missing)))
    func sse2NearAVX2() {
        let a = outputs(of: .sse2), b = outputs(of: .avx2)
        for (name, values) in a {
            let other = b[name]!
            let off = values.indices.filter {
                !(abs(Double(values[$0]) - Double(other[$0]))
                  <= Tolerance.combined(ElementwiseTolerance.pathsAbsolute, ElementwiseTolerance.pathsRelative, of: abs(Double(other[$0]))))
            }
            #expect(off.isEmpty, "\(name): \(off.count) values apart, \(Discrepancy(values, other))")
        }
    }

    @Test("the dispatch picks a copy this CPU runs; VOXENC_KERNEL_ISA only lowers it")
    func dispatch() {
        let supported = ElementwiseKernels.supportedInstructionSets
        #expect(supported.contains(ElementwiseKernels.instructionSet))
        #expect(supported.last == "sse2")
        let best = voxenc_kernel_isa_choosing(nil)
        #expect(best == Int32(supported.count - 1))
        #expect(voxenc_kernel_isa_choosing("baseline") == 0)
        #expect(voxenc_kernel_isa_choosing("sse2") == 0)
        #expect(voxenc_kernel_isa_choosing("avx2") == min(best, 1))
        #expect(voxenc_kernel_isa_choosing("avx512") == best)  // never above the CPU
        #expect(voxenc_kernel_isa_choosing("") == best)
    }
}
