// The front end's C kernels (CVoxEncKernels: Cephes log10f, and one block of power → filterbank → log10) on every
// instruction set this CPU runs, against float64 oracles; the copies against each other.

import CVoxEncKernels
import Foundation
import Testing
@testable import VoxEncAudio
import VoxEncTestSupport

enum FrontEndKernelCheck: String, CaseIterable, Sendable {
    case log10, melBlock

    func run(on path: KernelPath) {
        switch self {
        case .log10:
            for width in [1, 15, 16, 17, 1283] {
                // 10^u over u ∈ [−38, 38] (the mel floor 1e-10 included), mantissas everywhere in [1, 2).
                let u = Reference.randomValues(count: width, seed: UInt64(width) + 70, scale: 38)
                var x = u.map { Float(Foundation.pow(10, Double($0))) }.map { $0.isNormal ? $0 : 1 }
                if width > 8 { x[0] = 1e-10; x[1] = 1; x[2] = .greatestFiniteMagnitude; x[3] = .leastNormalMagnitude; x[4] = 0.99999994 }
                var y = [Float](repeating: .nan, count: width)
                x.withUnsafeBufferPointer { x in y.withUnsafeMutableBufferPointer { path.log10(x.baseAddress!, $0.baseAddress!, width) } }
                for i in 0..<width {
                    let expected = Foundation.log10(Double(x[i]))
                    #expect(abs(Double(y[i]) - expected) <= Log10KernelTolerance.log10Relative * max(abs(expected), Double(Float.leastNormalMagnitude)),
                            "\(path) log10(\(x[i])) = \(y[i]), expected \(expected)")
                }
            }
        case .melBlock:
            for melBins in [128, 80] {
                let (mel, expected) = melBlockOutputs(path, melBins: melBins)
                let d = Discrepancy(mel, expected)
                #expect(d.maxAbsolute <= Log10KernelTolerance.melBlockAbsolute, "\(path) \(melBins) bins: \(d)")
            }
        }
    }
}

/// One block of 8 frames of random spectra (some bins silent: the 1e-10 floor) through `path`, and the float64 oracle.
func melBlockOutputs(_ path: KernelPath, melBins: Int) -> (mel: [Float], expected: [Float]) {
    let bins = FrontEndConfiguration.frequencyBinCount, batch = 8
    let filterbank = MelFilterbank(melBinCount: melBins)
    let values = Reference.randomValues(count: bins * batch * 2, seed: UInt64(melBins), scale: 30)
    let spectra = values.enumerated().map { i, v in (i / 16) % 9 == 4 ? 0 : Double(v) * Double(v) }  // [B, 8, 2]
    var power = [Float](repeating: .nan, count: bins * batch), mel = [Float](repeating: .nan, count: melBins * batch)
    spectra.withUnsafeBufferPointer { s in filterbank.bandWeights.withUnsafeBufferPointer { w in
        filterbank.bandOffset.withUnsafeBufferPointer { o in filterbank.bandStart.withUnsafeBufferPointer { st in
            power.withUnsafeMutableBufferPointer { p in mel.withUnsafeMutableBufferPointer { m in
                path.log10MelBlock(s.baseAddress!, bins, w.baseAddress!, o.baseAddress!, st.baseAddress!, melBins,
                                   FrontEndConfiguration.melFloor, p.baseAddress!, m.baseAddress!)
            }}
        }}
    }}
    var expected = [Float](repeating: 0, count: melBins * batch)
    for m in 0..<melBins {
        for k in 0..<batch {
            var energy = 0.0
            for b in 0..<bins {
                let re = spectra[(b * batch + k) * 2], im = spectra[(b * batch + k) * 2 + 1]
                energy += Double(filterbank.weight(bin: b, mel: m)) * Double(Float(re * re + im * im))
            }
            expected[m * batch + k] = Float(Foundation.log10(max(energy, Double(FrontEndConfiguration.melFloor))))
        }
    }
    return (mel, expected)
}

@Suite("Front-end C kernels, avx512 copy")
struct AVX512FrontEndKernelTests {
    @Test(arguments: FrontEndKernelCheck.allCases) func kernel(_ check: FrontEndKernelCheck) throws {
        try RouteCoverage.require(KernelPath.avx512)  // a copy this CPU cannot run: skipped with the reason
        check.run(on: .avx512)
        RouteCoverage.ran(KernelPath.avx512)
    }
}

@Suite("Front-end C kernels, avx2 copy")
struct AVX2FrontEndKernelTests {
    @Test(arguments: FrontEndKernelCheck.allCases) func kernel(_ check: FrontEndKernelCheck) throws {
        try RouteCoverage.require(KernelPath.avx2)  // a copy this CPU cannot run: skipped with the reason
        check.run(on: .avx2)
        RouteCoverage.ran(KernelPath.avx2)
    }
}

@Suite("Front-end C kernels, sse2 (baseline) copy")
struct SSE2FrontEndKernelTests {
    @Test(arguments: FrontEndKernelCheck.allCases) func kernel(_ check: FrontEndKernelCheck) throws {
        try RouteCoverage.require(KernelPath.sse2)  // a copy this CPU cannot run: skipped with the reason
        check.run(on: .sse2)
        RouteCoverage.ran(KernelPath.sse2)
    }
}

@Suite("Front-end C kernels: the copies agree")
struct FrontEndKernelAgreementTests {
    @Test("avx512 and avx2 give identical bits", .enabled(if: KernelPath.avx512.isSupported, Comment(rawValue: KernelPath.avx512Missing)))
    func avx512MatchesAVX2() {
        let a = melBlockOutputs(.avx512, melBins: 128).mel, b = melBlockOutputs(.avx2, melBins: 128).mel
        #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "\(Discrepancy(a, b))")
    }

    @Test("sse2 (no FMA) within rounding of avx2", .enabled(if: KernelPath.avx2.isSupported, Comment(rawValue: KernelPath.avx2Missing)))
    func sse2NearAVX2() {
        let a = melBlockOutputs(.sse2, melBins: 128).mel, b = melBlockOutputs(.avx2, melBins: 128).mel
        let off = a.indices.filter { !(abs(a[$0] - b[$0]) <= Log10KernelTolerance.pathsUlps * Double(b[$0].ulp)) }
        #expect(off.isEmpty, "\(off.count) values more than 2 ulp apart: \(Discrepancy(a, b))")
    }
}
