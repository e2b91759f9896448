// Streaming sample-rate conversion with libsoxr at "HQ" quality.
// Reference: mistral-common Audio.resample → soxr.resample(x, sr, 16000, quality="HQ") (python-soxr), which runs
// libsoxr's soxr_process over the whole array and flushes. Fed the same samples in blocks, soxr's output is the same.
// Note: soxr_oneshot defaults to LQ (soxr.h); the quality is therefore always passed explicitly.

import CSoxr

/// soxr quality presets (soxr.h `SOXR_*Q`).
public enum ResamplerQuality: Sendable {
    case low, medium, high, veryHigh

    var soxrRecipe: UInt {
        switch self {
        case .low: return UInt(SOXR_LQ)
        case .medium: return UInt(SOXR_MQ)
        case .high: return UInt(SOXR_HQ)
        case .veryHigh: return UInt(SOXR_VHQ)
        }
    }
}

/// Mono float32 resampler; feed blocks with `process`, then call `finish` once. Not thread-safe.
public final class Resampler {
    public let inputRate: Double
    public let outputRate: Double
    private let soxr: soxr_t?  // nil when the rates are equal: samples pass through unchanged
    private var outputBlock: [Float]

    /// Fails with a message from soxr for rates it cannot handle.
    public init(inputRate: Double, outputRate: Double, quality: ResamplerQuality = .high) throws(ResamplerError) {
        guard inputRate > 0, outputRate > 0, inputRate.isFinite, outputRate.isFinite else {
            throw ResamplerError(reason: "invalid rates \(inputRate) → \(outputRate) Hz")
        }
        self.inputRate = inputRate
        self.outputRate = outputRate
        self.outputBlock = []
        if inputRate == outputRate {
            self.soxr = nil
            return
        }
        var error: soxr_error_t? = nil
        var ioSpec = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I)
        var qualitySpec = soxr_quality_spec(quality.soxrRecipe, 0)
        var runtimeSpec = soxr_runtime_spec(1)  // one thread: parallelism belongs to the caller
        let handle = soxr_create(inputRate, outputRate, 1, &error, &ioSpec, &qualitySpec, &runtimeSpec)
        if let error {
            if let handle { soxr_delete(handle) }
            throw ResamplerError(reason: String(cString: error))
        }
        self.soxr = handle
    }

    deinit { if let soxr { soxr_delete(soxr) } }

    /// Resamples `input` and appends what soxr can already emit to `output`.
    public func process(_ input: UnsafeBufferPointer<Float>, appendingTo output: inout [Float]) throws(ResamplerError) {
        guard let soxr else {
            output.append(contentsOf: input)
            return
        }
        var consumed = 0
        let expected = Int((Double(input.count) * outputRate / inputRate).rounded(.up)) + 64
        if outputBlock.count < expected { outputBlock = [Float](repeating: 0, count: expected) }
        while consumed < input.count {
            var inputDone = 0
            var outputDone = 0
            let error = outputBlock.withUnsafeMutableBufferPointer { out in
                soxr_process(soxr, input.baseAddress! + consumed, input.count - consumed, &inputDone,
                             out.baseAddress, out.count, &outputDone)
            }
            if let error { throw ResamplerError(reason: String(cString: error)) }
            output.append(contentsOf: outputBlock[0..<outputDone])
            consumed += inputDone
            if inputDone == 0 && outputDone == 0 { break }
        }
    }

    /// Flushes the filter's tail into `output`. Call once, after the last `process`.
    public func finish(appendingTo output: inout [Float]) throws(ResamplerError) {
        guard let soxr else { return }
        if outputBlock.count < 4096 { outputBlock = [Float](repeating: 0, count: 4096) }
        while true {
            var outputDone = 0
            let error = outputBlock.withUnsafeMutableBufferPointer { out in
                soxr_process(soxr, nil, 0, nil, out.baseAddress, out.count, &outputDone)
            }
            if let error { throw ResamplerError(reason: String(cString: error)) }
            if outputDone == 0 { break }
            output.append(contentsOf: outputBlock[0..<outputDone])
        }
    }

    /// One call for a whole in-memory signal.
    public static func resample(_ samples: [Float], from inputRate: Double, to outputRate: Double,
                                quality: ResamplerQuality = .high) throws(ResamplerError) -> [Float] {
        let resampler = try Resampler(inputRate: inputRate, outputRate: outputRate, quality: quality)
        var output: [Float] = []
        output.reserveCapacity(Int(Double(samples.count) * outputRate / inputRate) + 16)
        try samples.withUnsafeBufferPointer { input throws(ResamplerError) in
            try resampler.process(input, appendingTo: &output)
        }
        try resampler.finish(appendingTo: &output)
        return output
    }
}

/// soxr's own message.
public struct ResamplerError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public var description: String { "resampler: \(reason)" }
}
