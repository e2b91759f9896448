// Comparing float arrays against reference values: the report names max abs / max rel error, the worst index and
// the first values, so a failure says where and by how much (llm.c's check_tensor).

import Foundation
import Testing

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
        if let lengthMismatch {
            return "length \(lengthMismatch.actual) ≠ reference length \(lengthMismatch.expected)"
        }
        let pairs = firstPairs.map { String(format: "(%.7g, %.7g)", $0.0, $0.1) }.joined(separator: " ")
        return String(format: "n=%d max|Δ|=%.3e max rel=%.3e mean|Δ|=%.3e relL2=%.3e worst at [%d]: %.7g vs %.7g; first (ours, ref): ",
                      count, maxAbsolute, maxRelative, meanAbsolute, relativeL2, worstIndex,
                      worstActual, worstExpected) + pairs
    }

    /// Arrays of different lengths: a recorded test failure (not a crash of the test process), and every measure
    /// infinite, so that any bound checked against it fails too.
    public var lengthMismatch: (actual: Int, expected: Int)?

    /// Compares `actual` with the reference `expected` element by element.
    public init(_ actual: [Float], _ expected: [Float], sourceLocation: SourceLocation = #_sourceLocation) {
        guard actual.count == expected.count else {
            Issue.record("length \(actual.count) ≠ reference length \(expected.count)", sourceLocation: sourceLocation)
            count = actual.count
            maxAbsolute = .infinity
            maxRelative = .infinity
            meanAbsolute = .infinity
            relativeL2 = .infinity
            worstIndex = 0
            worstActual = .nan
            worstExpected = .nan
            firstPairs = (0..<min(5, actual.count, expected.count)).map { (actual[$0], expected[$0]) }
            lengthMismatch = (actual.count, expected.count)
            return
        }
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
