// Comparing float arrays against reference values: the report names max abs / max rel error, the worst index and
// the first values, so a failure says where and by how much (llm.c's check_tensor).

import Foundation

/// How far two arrays are apart.
public struct Discrepancy: Sendable, CustomStringConvertible {
    public var count: Int
    public var maxAbsolute: Double
    public var maxRelative: Double
    public var meanAbsolute: Double
    /// ‖a − b‖₂ / ‖b‖₂ (b = reference).
    public var relativeL2: Double
    public var worstIndex: Int
    public var worstActual: Float
    public var worstExpected: Float
    public var firstPairs: [(Float, Float)]

    public var description: String {
        let pairs = firstPairs.map { String(format: "(%.7g, %.7g)", $0.0, $0.1) }.joined(separator: " ")
        return String(format: "n=%d max|Δ|=%.3e max rel=%.3e mean|Δ|=%.3e relL2=%.3e worst at [%d]: %.7g vs %.7g; first (ours, ref): ",
                      count, maxAbsolute, maxRelative, meanAbsolute, relativeL2, worstIndex,
                      worstActual, worstExpected) + pairs
    }

    /// Compares `actual` with the reference `expected` element by element.
    public init(_ actual: [Float], _ expected: [Float]) {
        precondition(actual.count == expected.count, "length \(actual.count) ≠ reference length \(expected.count)")
        var maxAbs = 0.0, maxRel = 0.0, sumAbs = 0.0, diffSq = 0.0, refSq = 0.0, worst = 0
        for i in 0..<actual.count {
            let a = Double(actual[i]), e = Double(expected[i])
            let d = abs(a - e)
            if !(d <= maxAbs) { maxAbs = d.isNaN ? .infinity : d; worst = i }
            if e != 0 { maxRel = max(maxRel, d / abs(e)) }
            sumAbs += d
            diffSq += d * d
            refSq += e * e
        }
        count = actual.count
        maxAbsolute = maxAbs
        maxRelative = maxRel
        meanAbsolute = actual.isEmpty ? 0 : sumAbs / Double(actual.count)
        relativeL2 = refSq > 0 ? (diffSq / refSq).squareRoot() : diffSq.squareRoot()
        worstIndex = worst
        worstActual = actual.isEmpty ? 0 : actual[worst]
        worstExpected = expected.isEmpty ? 0 : expected[worst]
        firstPairs = (0..<min(5, actual.count)).map { (actual[$0], expected[$0]) }
    }
}
