// The named tolerances of the tests. Every value, with what it bounds, against which reference function, why, and the
// worst value measured (command and CPU), lives in ONE file, Tests/tolerances/tolerances.json, which the C and Python
// binding tests read too (Tests/tolerances/tolerances.py). This file only names the entries for Swift; a test compares
// against a `Tolerance`, never a bare literal, and ToleranceTableTests fails on an entry no test uses.
//
// `VOXENC_TOLERANCE_REPORT=FILE swift test -c release -Xswiftc -enable-testing …` appends each new worst value a
// comparison sees to FILE; `python3 Tests/tolerances/tolerances.py report FILE` prints them against the bounds, and
// `… measure FILE --command … --cpu …` records them in the table.

import Foundation
@_spi(Engine) import VoxEnc
import VoxEncModel
import VoxEncAudio

/// One entry of Tests/tolerances/tolerances.json. `observed <= tolerance` (or `>=` for a lower bound) compares and, with
/// VOXENC_TOLERANCE_REPORT set, records the observed value. `tolerance * s` bounds a value relative to `s` (and
/// records observed / s).
public struct Tolerance: Sendable, CustomStringConvertible {
    public let name: String
    /// The bound (times `scale`).
    public let value: Double
    let scale: Double

    public init(_ name: String) {
        guard let entry = ToleranceTable.entries[name] else {
            fatalError("no tolerance \(name) in \(ToleranceTable.path)")
        }
        self.init(name: name, value: entry.bound, scale: 1)
    }

    init(name: String, value: Double, scale: Double) {
        self.name = name
        self.value = value
        self.scale = scale
    }

    public var float: Float { Float(value) }
    public var description: String { scale == 1 ? "\(value) (\(name))" : "\(value) (\(name) × \(scale))" }

    public static func * (bound: Tolerance, scale: Double) -> Tolerance {
        Tolerance(name: bound.name, value: bound.value * scale, scale: bound.scale * scale)
    }
    public static func * (scale: Double, bound: Tolerance) -> Tolerance { bound * scale }

    /// |Δ| ≤ a + r·|y|: recorded as the fraction of this combined bound used, under the name "a + r".
    public static func combined(_ absolute: Tolerance, _ relative: Tolerance, of magnitude: Double) -> Tolerance {
        let value = absolute.value + relative.value * magnitude
        return Tolerance(name: "\(absolute.name) + \(relative.name)", value: value, scale: value)
    }

    fileprivate func check(_ observed: Double, upper: Bool, _ holds: Bool) -> Bool {
        if scale != 0 { ToleranceTable.record(name, upper: upper, observed / scale) }
        return holds
    }

    public static func <= (observed: Double, bound: Tolerance) -> Bool { bound.check(observed, upper: true, observed <= bound.value) }
    public static func < (observed: Double, bound: Tolerance) -> Bool { bound.check(observed, upper: true, observed < bound.value) }
    public static func >= (observed: Double, bound: Tolerance) -> Bool { bound.check(observed, upper: false, observed >= bound.value) }
    public static func > (observed: Double, bound: Tolerance) -> Bool { bound.check(observed, upper: false, observed > bound.value) }
    public static func <= (observed: Float, bound: Tolerance) -> Bool { Double(observed) <= bound }
    public static func < (observed: Float, bound: Tolerance) -> Bool { Double(observed) < bound }
    public static func >= (observed: Float, bound: Tolerance) -> Bool { Double(observed) >= bound }
    public static func > (observed: Float, bound: Tolerance) -> Bool { Double(observed) > bound }
}

/// Tests/tolerances/tolerances.json, decoded once.
public enum ToleranceTable {
    public struct Entry: Decodable, Sendable {
        public var name: String
        public var bound: Double
        public var kind: String
        public var metric: String
        public var reference: String
        public var reason: String
        public var measured: Double?
        public var command: String?
        public var cpu: String?
        public var boundAVX2: Double?
        public var measuredAVX2: Double?
        enum CodingKeys: String, CodingKey {
            case name, bound, kind, metric, reference, reason, measured, command, cpu
            case boundAVX2 = "bound_avx2", measuredAVX2 = "measured_avx2"
        }
    }

    public static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("tolerances/tolerances.json").path

    /// The entries in file order (duplicates included: ToleranceTableTests rejects them).
    public static let list: [Entry] = {
        struct File: Decodable { var tolerances: [Entry] }
        do {
            return try JSONDecoder().decode(File.self, from: Data(contentsOf: URL(fileURLWithPath: path))).tolerances
        } catch {
            fatalError("cannot read \(path): \(error)")
        }
    }()

    public static let entries: [String: Entry] = Dictionary(list.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })

    private static let reportPath = ProcessInfo.processInfo.environment["VOXENC_TOLERANCE_REPORT"]
    private static let lock = NSLock()
    nonisolated(unsafe) private static var worst: [String: Double] = [:]

    /// Appends `value` to the report file when it is the worst seen for `name` in this process.
    static func record(_ name: String, upper: Bool, _ value: Double) {
        guard let reportPath else { return }
        lock.lock()
        defer { lock.unlock() }
        if let old = worst[name], !value.isNaN, upper ? value <= old : value >= old { return }
        worst[name] = value
        let line = "\(name)\t\(upper ? "upper" : "lower")\t\(value)\n"
        if let handle = FileHandle(forWritingAtPath: reportPath) ?? {
            FileManager.default.createFile(atPath: reportPath, contents: nil)
            return FileHandle(forWritingAtPath: reportPath)
        }() {
            handle.seekToEndOfFile()
            handle.write(Data(line.utf8))
            handle.closeFile()
        }
    }
}

// MARK: - Front end

public enum FrontEndTolerance {
    public static let melMaxAbsolute = Tolerance("FrontEndTolerance.melMaxAbsolute")
    public static let melMeanAbsolute = Tolerance("FrontEndTolerance.melMeanAbsolute")
    public static let melWholeMean = Tolerance("FrontEndTolerance.melWholeMean")
    public static let specTableValue = Tolerance("FrontEndTolerance.specTableValue")
    public static let specMaximumLog10 = Tolerance("FrontEndTolerance.specMaximumLog10")
    public static let specMean = Tolerance("FrontEndTolerance.specMean")
    public static let specSignalSample = Tolerance("FrontEndTolerance.specSignalSample")
    public static let specFilterWeight = Tolerance("FrontEndTolerance.specFilterWeight")
    public static let specFilterWeightSmall = Tolerance("FrontEndTolerance.specFilterWeightSmall")
    public static let specFilterWeight80 = Tolerance("FrontEndTolerance.specFilterWeight80")
    public static let specHertzToMel = Tolerance("FrontEndTolerance.specHertzToMel")
    public static let audioSumRelative = Tolerance("FrontEndTolerance.audioSumRelative")
    public static let audioSumFloat32 = Tolerance("FrontEndTolerance.audioSumFloat32")
    public static let filterbank = Tolerance("FrontEndTolerance.filterbank")
    public static let resampledMaxAbsolute = Tolerance("FrontEndTolerance.resampledMaxAbsolute")
    public static let decodedSample = Tolerance("FrontEndTolerance.decodedSample")
    public static let lossyDurationSeconds = Tolerance("FrontEndTolerance.lossyDurationSeconds")
    public static let lossyToneEnergy = Tolerance("FrontEndTolerance.lossyToneEnergy")
}

// MARK: - Kernels

public enum KernelTolerance {
    public static let gemmRelativeL2 = Tolerance("KernelTolerance.gemmRelativeL2")
    public static let gemmAccumulatedRelativeL2 = Tolerance("KernelTolerance.gemmAccumulatedRelativeL2")
    public static let gemmMaxAbsolute = Tolerance("KernelTolerance.gemmMaxAbsolute")
    public static let convolutionRelativeL2 = Tolerance("KernelTolerance.convolutionRelativeL2")
    public static let attentionRelativeL2 = Tolerance("KernelTolerance.attentionRelativeL2")
    public static let bfloat16RelativeL2 = Tolerance("KernelTolerance.bfloat16RelativeL2")
    public static let bfloat16MinimumRelativeL2 = Tolerance("KernelTolerance.bfloat16MinimumRelativeL2")
    public static let windowedDotProduct = Tolerance("KernelTolerance.windowedDotProduct")
    public static let windowedAttention = Tolerance("KernelTolerance.windowedAttention")
    public static let rmsNorm = Tolerance("KernelTolerance.rmsNorm")
    public static let rotary = Tolerance("KernelTolerance.rotary")
    public static let pairMeanRelativeToMaximum = Tolerance("KernelTolerance.pairMeanRelativeToMaximum")
}

public enum ElementwiseTolerance {
    public static let geluAbsolute = Tolerance("ElementwiseTolerance.geluAbsolute")
    public static let geluRelative = Tolerance("ElementwiseTolerance.geluRelative")
    public static let exponentialRelative = Tolerance("ElementwiseTolerance.exponentialRelative")
    public static let swiGLURelative = Tolerance("ElementwiseTolerance.swiGLURelative")
    public static let softmaxAbsolute = Tolerance("ElementwiseTolerance.softmaxAbsolute")
    public static let softmaxSumRelative = Tolerance("ElementwiseTolerance.softmaxSumRelative")
    public static let layerNormAbsolute = Tolerance("ElementwiseTolerance.layerNormAbsolute")
    public static let layerNormFarMeanAbsolute = Tolerance("ElementwiseTolerance.layerNormFarMeanAbsolute")
    public static let dequantiseRelative = Tolerance("ElementwiseTolerance.dequantiseRelative")
    public static let pathsRelative = Tolerance("ElementwiseTolerance.pathsRelative")
    public static let pathsAbsolute = Tolerance("ElementwiseTolerance.pathsAbsolute")
}

public enum Log10KernelTolerance {
    public static let log10Relative = Tolerance("Log10KernelTolerance.log10Relative")
    public static let melBlockAbsolute = Tolerance("Log10KernelTolerance.melBlockAbsolute")
    public static let pathsUlps = Tolerance("Log10KernelTolerance.pathsUlps")
}

// MARK: - Encoder and adapter (float32)

public enum EncoderTolerance {
    public static let stageRelativeL2 = Tolerance("EncoderTolerance.stageRelativeL2")
    public static let stageMaxAbsolute = Tolerance("EncoderTolerance.stageMaxAbsolute")
    public static let endToEndRelativeL2 = Tolerance("EncoderTolerance.endToEndRelativeL2")
    public static let positionalTable = Tolerance("EncoderTolerance.positionalTable")
    public static let computedPositions = Tolerance("EncoderTolerance.computedPositions")
}

/// The bad-input corpus's valid and damaged audio through `voxenc embed` (BadInputCorpusTests).
public enum CorpusTolerance {
    public static let losslessRelativeL2 = Tolerance("CorpusTolerance.losslessRelativeL2")
    public static let lossyRelativeL2 = Tolerance("CorpusTolerance.lossyRelativeL2")
}

public enum CTranslate2Tolerance {
    public static let realRelativeL2 = Tolerance("CTranslate2Tolerance.realRelativeL2")
    public static let chunkNorm = Tolerance("CTranslate2Tolerance.chunkNorm")
    public static let randomRelativeL2 = Tolerance("CTranslate2Tolerance.randomRelativeL2")
}

// MARK: - Reduced precision

public enum QuantisationTolerance {
    public static let int8LinearRelativeL2 = Tolerance("QuantisationTolerance.int8LinearRelativeL2")
    public static let int8VersusFloatRelativeL2 = Tolerance("QuantisationTolerance.int8VersusFloatRelativeL2")
    public static let rowSumAbsolute = Tolerance("QuantisationTolerance.rowSumAbsolute")
    public static let codeRoundingSteps = Tolerance("QuantisationTolerance.codeRoundingSteps")
}

/// int8 bounds for 8-bit weights (VNNI) and the 7-bit weights of AVX2 without VNNI (DNNL_MAX_CPU_ISA=AVX2): the table's
/// `bound` and `bound_avx2`.
public enum Int8Tolerance {
    public struct Bound: Sendable {
        public let vnni: Tolerance
        public let avx2: Tolerance
        init(_ name: String) {
            vnni = Tolerance(name)
            guard let avx2 = ToleranceTable.entries[name]?.boundAVX2 else { fatalError("\(name) has no bound_avx2") }
            self.avx2 = Tolerance(name: name + "[avx2]", value: avx2, scale: 1)
        }
        /// The bound of the kernel class this CPU runs.
        public var here: Tolerance { (try? IntegerGEMM.support.get().weightLevels) == 63 ? avx2 : vnni }
    }

    public static let voxtralFixtureRelativeL2 = Bound("Int8Tolerance.voxtralFixtureRelativeL2")
    public static let whisperFixtureRelativeL2 = Bound("Int8Tolerance.whisperFixtureRelativeL2")
    public static let whisperTinyEnRelativeL2 = Bound("Int8Tolerance.whisperTinyEnRelativeL2")
    public static let minimumRelativeL2 = Tolerance("Int8Tolerance.minimumRelativeL2")
}

public enum BFloat16Tolerance {
    public static let relativeL2 = Tolerance("BFloat16Tolerance.relativeL2")
    public static let minimumRelativeL2 = Tolerance("BFloat16Tolerance.minimumRelativeL2")
}

// MARK: - Output files

public enum OutputTolerance {
    public static let durationSeconds = Tolerance("OutputTolerance.durationSeconds")
}

// MARK: - Voxtral Realtime (float32, against transformers 5.25; Tests/Fixtures/realtime)

public enum RealtimeTolerance {
    public static let relativeToMaximum = Tolerance("RealtimeTolerance.relativeToMaximum")
    public static let relativeL2 = Tolerance("RealtimeTolerance.relativeL2")
    public static let bfloat16RelativeL2 = Tolerance("RealtimeTolerance.bfloat16RelativeL2")
    public static let streamedResampledMaxAbsolute = Tolerance("RealtimeTolerance.streamedResampledMaxAbsolute")
}
