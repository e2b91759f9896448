// The causal family's kernels against slow, obvious float64 oracles on odd shapes: the windowed-attention C kernels
// on every instruction-set copy this CPU runs, SlidingWindowAttention over a ring that wraps, PanelledLinear on every
// route, RMSNorm and the rotary embedding.

import CVoxEncKernels
import Foundation
import Testing
import VoxEncModel
import VoxEncTestSupport

@Suite("Realtime kernels")
struct RealtimeKernelTests {
    typealias Kernel = @Sendable (UnsafePointer<Float>?, Int, Int, UnsafePointer<Float>?, Int, Int, Int,
                                  UnsafeMutablePointer<Float>?, Int) -> Void
    typealias HalfKernel = @Sendable (UnsafePointer<Float>?, Int, Int, UnsafePointer<UInt16>?, Int, Int, Int,
                                      UnsafeMutablePointer<Float>?, Int) -> Void
    static let copies: [(String, Bool, Kernel, Kernel)] = [
        ("avx512", voxenc_cpu_supports_avx512(), voxenc_key_scores_avx512, voxenc_weighted_rows_avx512),
        ("avx2", voxenc_cpu_supports_avx2(), voxenc_key_scores_avx2, voxenc_weighted_rows_avx2),
        ("sse2", true, voxenc_key_scores_sse2, voxenc_weighted_rows_sse2),
    ]
    /// The bf16-element kernels of each copy, fed bf16 values through the float32 kernels' interface: the values are
    /// rounded to bf16 first, so the float32 kernel on the widened values is the oracle's input too.
    static let halfCopies: [(String, Bool, HalfKernel, HalfKernel)] = [
        ("avx512 bf16", voxenc_cpu_supports_avx512(), voxenc_key_scores_bf16_avx512, voxenc_weighted_rows_bf16_avx512),
        ("avx2 bf16", voxenc_cpu_supports_avx2(), voxenc_key_scores_bf16_avx2, voxenc_weighted_rows_bf16_avx2),
        ("sse2 bf16", true, voxenc_key_scores_bf16_sse2, voxenc_weighted_rows_bf16_sse2),
    ]

    /// x rounded to bf16 (nearest even) as its bits and its value.
    static func bfloat16(_ x: [Float]) -> (bits: [UInt16], values: [Float]) {
        var bits = [UInt16](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { voxenc_round_bf16_rows($0.baseAddress!, 1, x.count, x.count, &bits, x.count) }
        return (bits, bits.map { Float(bitPattern: UInt32($0) << 16) })
    }

    /// A bf16 copy as a float32 one: keys and values rounded to bf16, handed over as their bits.
    static func widened(_ copy: Int) -> (String, Bool, Kernel, Kernel) {
        let (name, supported, scores, weighted) = halfCopies[copy]
        return (name, supported,
                { q, ldq, n, kt, ldk, count, dh, out, lds in
                    let bits = bfloat16(Array(UnsafeBufferPointer(start: kt!, count: (dh - 1) * ldk + count))).bits
                    scores(q, ldq, n, bits, ldk, count, dh, out, lds)
                },
                { p, ldp, n, v, ldv, count, dh, out, ldo in
                    let bits = bfloat16(Array(UnsafeBufferPointer(start: v!, count: (count - 1) * ldv + dh))).bits
                    weighted(p, ldp, n, bits, ldv, count, dh, out, ldo)
                })
    }

    // One test per copy; a copy this CPU cannot run is skipped with the reason (RouteCoverage.require).
    @Test("key scores and weighted rows, avx512 copy")
    func windowKernelsAVX512() throws { try Self.windowKernels(on: .avx512, 0) }

    @Test("key scores and weighted rows, avx2 copy")
    func windowKernelsAVX2() throws { try Self.windowKernels(on: .avx2, 1) }

    @Test("key scores and weighted rows, sse2 copy (every x86-64 CPU)")
    func windowKernelsSSE2() throws { try Self.windowKernels(on: .sse2, 2) }

    @Test("key scores and weighted rows over bf16 keys and values, avx512 copy")
    func windowKernelsBFloat16AVX512() throws { try Self.windowKernels(on: .avx512, 0, bfloat16: true) }

    @Test("key scores and weighted rows over bf16 keys and values, avx2 copy")
    func windowKernelsBFloat16AVX2() throws { try Self.windowKernels(on: .avx2, 1, bfloat16: true) }

    @Test("key scores and weighted rows over bf16 keys and values, sse2 copy (every x86-64 CPU)")
    func windowKernelsBFloat16SSE2() throws { try Self.windowKernels(on: .sse2, 2, bfloat16: true) }

    static func windowKernels(on path: KernelPath, _ copy: Int, bfloat16: Bool = false) throws {
        try RouteCoverage.require(path)
        windowKernels(copy, bfloat16: bfloat16)
        RouteCoverage.ran(path)
    }

    /// Against float64 sums, odd counts, widths and query counts (the four-query tiles and the rest); a score does
    /// not depend on its key's lane nor on the queries computed with it, and an output value not on its query's
    /// companions either.
    /// bf16: keys and values are bf16 values (the oracle sums the same widened values in float64).
    static func windowKernels(_ copy: Int, bfloat16: Bool = false) {
        let (name, _, scores, weighted) = bfloat16 ? Self.widened(copy) : Self.copies[copy]
        func elements(_ x: [Float]) -> [Float] { bfloat16 ? Self.bfloat16(x).values : x }
        for (queries, count, dh, ldk) in [(1, 1, 7, 9), (5, 17, 24, 40), (3, 37, 40, 37), (4, 64, 64, 70), (6, 70, 64, 75), (4, 753, 64, 773)] {
            let ldq = dh + 5, lds = count + 2
            let q = Reference.randomValues(count: queries * ldq, seed: 1)
            let kt = elements(Reference.randomValues(count: dh * ldk, seed: 2))
            var out = [Float](repeating: .nan, count: queries * lds)
            scores(q, ldq, queries, kt, ldk, count, dh, &out, lds)
            var got: [Float] = [], expected: [Float] = []
            for i in 0..<queries {
                got += out[(i * lds)..<(i * lds + count)]
                expected += (0..<count).map { j in
                    Float((0..<dh).reduce(0.0) { $0 + Double(q[i * ldq + $1]) * Double(kt[$1 * ldk + j]) })
                }
            }
            let d = Discrepancy(got, expected)
            #expect(d.maxAbsolute <= KernelTolerance.windowedDotProduct * Double(dh), "\(name) scores \(queries)×\(count)×\(dh): \(d)")
            // The first and last query's first and last key alone (one query, the scalar tail) give the bits they got
            // in the call: in a four-query tile, its zero-padded last keys, or the one-query rest.
            for i in Set([0, queries - 1]) {
                for j in [0, count - 1] {
                    var single: Float = .nan
                    kt.withUnsafeBufferPointer { k in scores(Array(q[(i * ldq)...]), ldq, 1, k.baseAddress! + j, ldk, 1, dh, &single, 1) }
                    #expect(single == out[i * lds + j], "\(name): query \(i) key \(j) alone \(single) vs in the call \(out[i * lds + j])")
                }
            }
            let ldp = count + 1, ldo = dh + 2
            let p = Reference.randomValues(count: queries * ldp, seed: 3).map { abs($0) }
            let ldv = dh + 3  // values [count][ldv]
            let v = elements(Reference.randomValues(count: count * ldv, seed: 4))
            var rows = [Float](repeating: 0.5, count: queries * ldo)
            weighted(p, ldp, queries, v, ldv, count, dh, &rows, ldo)
            var sums: [Float] = [], weightedGot: [Float] = []
            for i in 0..<queries {
                weightedGot += rows[(i * ldo)..<(i * ldo + dh)]
                sums += (0..<dh).map { d in
                    Float(0.5 + (0..<count).reduce(0.0) { $0 + Double(p[i * ldp + $1]) * Double(v[$1 * ldv + d]) })
                }
            }
            let e = Discrepancy(weightedGot, sums)
            #expect(e.maxAbsolute <= KernelTolerance.windowedDotProduct * Double(count), "\(name) weighted \(queries)×\(count)×\(dh): \(e)")
            for i in Set([0, queries - 1]) {
                var alone = [Float](repeating: 0.5, count: dh)
                weighted(Array(p[(i * ldp)...]), ldp, 1, v, ldv, count, dh, &alone, dh)
                #expect(alone == Array(rows[(i * ldo)..<(i * ldo + dh)]), "\(name): query \(i)'s weighted row alone differs from in the call")
            }
        }
    }

    /// bf16 rings: the oracle takes the keys and values rounded to bf16.
    @Test("sliding-window attention over a wrapping ring (float32 and bf16) equals softmax attention over the window, in float64",
          arguments: [KeyValueRing.Element.float32, .bfloat16])
    func slidingWindow(_ element: KeyValueRing.Element) {
        let (heads, dh, window, rows) = (3, 10, 7, 5)
        let capacity = window - 1 + rows
        let a = heads * dh
        let positions = 23  // the ring wraps twice
        let q = Reference.randomValues(count: positions * a, seed: 5)
        var k = Reference.randomValues(count: positions * a, seed: 6)
        var v = Reference.randomValues(count: positions * a, seed: 7)
        let bytes = UnsafeMutableRawPointer.allocate(
            byteCount: KeyValueRing.byteCount(capacity: capacity, heads: heads, headWidth: dh, element: element),
            alignment: 64)
        defer { bytes.deallocate() }
        let ring = KeyValueRing(bytes, element: element, capacity: capacity, heads: heads, headWidth: dh)
        var scratch = [Float](repeating: 0, count: 2 * SlidingWindowAttention.scratchCount(window: window))
        /// Every position, in calls of up to `rows` positions as a stream makes them.
        func attend(rowsPerCall rows: Int) -> [Float] {
            var output = [Float](repeating: .nan, count: positions * a)
            var first = 0
            while first < positions {
                let n = min(rows, positions - first)
                var (kRows, vRows) = (Array(k[(first * a)..<((first + n) * a)]), Array(v[(first * a)..<((first + n) * a)]))
                ring.store(k: &kRows, v: &vRows, stride: a, rows: n, firstPosition: first)
                q.withUnsafeBufferPointer { q in
                    scratch.withUnsafeMutableBufferPointer { s in
                        output.withUnsafeMutableBufferPointer { o in
                            Parallel.withThreads(2) {
                                SlidingWindowAttention.apply(q: q.baseAddress! + first * a, stride: a, rows: n,
                                                             firstPosition: first, window: window, ring: ring,
                                                             scratch: s.baseAddress!, into: o.baseAddress! + first * a)
                            }
                        }
                    }
                }
                first += n
            }
            return output
        }
        let output = attend(rowsPerCall: rows)
        // A position's result does not depend on the queries computed with it (groups of four, or alone).
        for n in [1, 3] {
            let other = attend(rowsPerCall: n)
            let same = zip(other, output).allSatisfy { $0.bitPattern == $1.bitPattern }
            #expect(same, "calls of \(n) rows differ from calls of \(rows): \(Discrepancy(other, output))")
        }
        if element == .bfloat16 { (k, v) = (Self.bfloat16(k).values, Self.bfloat16(v).values) }
        var expected = [Float](repeating: 0, count: positions * a)
        for p in 0..<positions {
            for h in 0..<heads {
                let keysSeen = max(0, p - window + 1)...p
                let logits = keysSeen.map { j in (0..<dh).reduce(0.0) { $0 + Double(q[p * a + h * dh + $1]) * Double(k[j * a + h * dh + $1]) } }
                let top = logits.max()!
                let weights = logits.map { exp($0 - top) }
                let total = weights.reduce(0, +)
                for d in 0..<dh {
                    var sum = 0.0
                    for (i, j) in keysSeen.enumerated() { sum += weights[i] * Double(v[j * a + h * dh + d]) }
                    expected[p * a + h * dh + d] = Float(sum / total)
                }
            }
        }
        let d = Discrepancy(output, expected)
        #expect(d.maxAbsolute <= KernelTolerance.windowedAttention, "\(element): \(d)")
    }

    // One test per route; a route this build or CPU cannot run is skipped with the reason (RouteCoverage.require).
    @Test("PanelledLinear on OpenBLAS sgemm")
    func panelledOpenBLAS() throws { try Self.panelled("openblas", .blas(.openBLAS), KernelTolerance.gemmRelativeL2) }

    @Test("PanelledLinear on oneDNN dnnl_sgemm")
    func panelledOneDNN() throws { try Self.panelled("onednn", .blas(.oneDNN), KernelTolerance.gemmRelativeL2) }

    @Test("PanelledLinear on oneDNN matmul, packed float32")
    func panelledPacked() throws { try Self.panelled("onednn-matmul", .packed(.float32), KernelTolerance.gemmRelativeL2) }

    @Test("PanelledLinear on oneDNN matmul, packed bf16")
    func panelledBFloat16() throws { try Self.panelled("bf16", .packed(.bfloat16), KernelTolerance.bfloat16RelativeL2) }

    /// Odd widths over several panels and blocks against a float64 product; a block alone gives the same bits.
    static func panelled(_ name: String, _ route: LinearRoute, _ bound: Tolerance) throws {
        let covered = try RouteCoverage.require(route)
        defer { RouteCoverage.ran(covered) }
        let (n, k, blockRows, blocks) = (300, 77, 5, 3)
        let weight = Reference.randomValues(count: n * k, seed: 8, scale: 0.2)
        let input = Reference.randomValues(count: blocks * blockRows * k, seed: 9)
        let linear = try PanelledLinear(LinearWeights(weight: weight, bias: nil, outputCount: n, inputCount: k),
                                        route: route, blockRows: blockRows)
        var output = [Float](repeating: .nan, count: blocks * blockRows * n)
        var tiles = [Float](repeating: 0, count: PanelledLinear.scratchCount(threads: 2, blockRows: blockRows))
        var rounded = [UInt16](repeating: 0, count: blocks * blockRows * k)
        #expect(linear.roundsInput == (route == .packed(.bfloat16)), "\(name): rounds its input once")
        func multiply(_ input: UnsafePointer<Float>, blocks: Int, into output: UnsafeMutablePointer<Float>) {
            tiles.withUnsafeMutableBufferPointer { t in
                rounded.withUnsafeMutableBufferPointer { rounded in
                    linear.multiply(input, blocks: blocks, blockRows: blockRows, scratch: t.baseAddress!,
                                    rounded: rounded, into: output)
                }
            }
        }
        input.withUnsafeBufferPointer { i in
            output.withUnsafeMutableBufferPointer { o in
                Parallel.withThreads(2) { multiply(i.baseAddress!, blocks: blocks, into: o.baseAddress!) }
            }
        }
        let expected = (0..<(blocks * blockRows)).flatMap { r in
            (0..<n).map { c in Float((0..<k).reduce(0.0) { $0 + Double(input[r * k + $1]) * Double(weight[c * k + $1]) }) }
        }
        let d = Discrepancy(output, expected)
        #expect(d.relativeL2 <= bound, "\(name): \(d)")
        // The same rows in one block alone come out the same: calls of one shape.
        var alone = [Float](repeating: .nan, count: blockRows * n)
        input.withUnsafeBufferPointer { i in
            alone.withUnsafeMutableBufferPointer { o in multiply(i.baseAddress! + blockRows * k, blocks: 1, into: o.baseAddress!) }
        }
        #expect(Array(output[(blockRows * n)..<(2 * blockRows * n)]) == alone, "\(name): block 1 alone")
        // A packed panel's rows equal the panel's own product of the float32 rows (bf16: rounded by oneDNN's call
        // itself, where PanelledLinear rounded them once for every panel).
        if case .packed(let operands) = route {
            let width = PanelledLinear.panelColumns
            let panel = try Array(weight[(width * k)..<(2 * width * k)]).withUnsafeBufferPointer { w throws(PackingError) in
                try PackedMatrix(weight: w.baseAddress!, outputCount: width, inputCount: k, operands: operands,
                                 typicalRows: blockRows)
            }
            var direct = [Float](repeating: .nan, count: blockRows * width)
            input.withUnsafeBufferPointer { i in
                direct.withUnsafeMutableBufferPointer { panel.multiply(i.baseAddress! + 2 * blockRows * k, rows: blockRows,
                                                                       into: $0.baseAddress!) }
            }
            let panelled = (0..<blockRows).flatMap { r in output[((2 * blockRows + r) * n + width)...].prefix(width) }
            #expect(panelled == direct, "\(name): panel 1 of block 2 against its own product")
        }
    }

    @Test("RMSNorm and the rotary embedding against float64 formulas")
    func normAndRotary() {
        let (rows, width) = (3, 37)
        let x = Reference.randomValues(count: rows * width, seed: 10)
        let w = Reference.randomValues(count: width, seed: 11)
        var y = [Float](repeating: .nan, count: rows * width)
        RMSNorm.apply(x, rows: rows, width: width, weight: w, epsilon: 1e-5, into: &y)
        let expected = (0..<rows).flatMap { r -> [Float] in
            let mean = (0..<width).reduce(0.0) { $0 + Double(x[r * width + $1]) * Double(x[r * width + $1]) } / Double(width)
            return (0..<width).map { Float(Double(w[$0]) * Double(x[r * width + $0]) / (mean + 1e-5).squareRoot()) }
        }
        #expect(Discrepancy(y, expected).maxAbsolute <= KernelTolerance.rmsNorm, "\(Discrepancy(y, expected))")

        let (heads, dh, position, theta) = (2, 12, 1234, 1e6)
        let rope = RotaryEmbedding(headWidth: dh, theta: theta)
        var row = Reference.randomValues(count: heads * dh, seed: 12)
        let original = row
        var cosines = [Float](repeating: 0, count: dh / 2), sines = cosines
        rope.angles(position: position, cos: &cosines, sin: &sines)
        rope.rotate(&row, heads: heads, cos: cosines, sin: sines)
        var rotated = [Float](repeating: 0, count: heads * dh)
        for h in 0..<heads {
            for i in 0..<(dh / 2) {
                let angle = Double(position) / pow(theta, Double(2 * i) / Double(dh))
                let (x1, x2) = (Double(original[h * dh + i]), Double(original[h * dh + i + dh / 2]))
                rotated[h * dh + i] = Float(x1 * cos(angle) - x2 * sin(angle))
                rotated[h * dh + i + dh / 2] = Float(x2 * cos(angle) + x1 * sin(angle))
            }
        }
        let d = Discrepancy(row, rotated)
        #expect(d.maxAbsolute <= KernelTolerance.rotary, "\(d)")
    }
}
