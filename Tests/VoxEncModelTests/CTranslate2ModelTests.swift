// The CTranslate2 model.bin reader on small files written here byte by byte (the format as ctranslate2's
// specs/model_spec.py `_serialize` writes it): valid files of each binary-version family, every truncation, bad
// versions, unknown dtypes, absurd counts and lengths, random corruption (typed errors, never a crash), aliases, and
// the int8 / int16 dequantization against CTranslate2's formula `Float(q) · (1 / scale)` (src/ops/dequantize_cpu.cc).

import Foundation
import Testing
@testable import VoxEncModel
import VoxEncTestSupport

/// One variable as CTranslate2 stores it.
struct CT2Variable {
    var name: String
    /// 0 float32, 1 int8, 2 int16, 3 int32, 4 float16, 5 bfloat16.
    var dtype: UInt8
    var shape: [Int]
    var bytes: [UInt8]

    static func f32(_ name: String, _ shape: [Int], _ values: [Float]) -> CT2Variable {
        CT2Variable(name: name, dtype: 0, shape: shape, bytes: values.flatMap { littleEndian($0.bitPattern) })
    }
    static func f16(_ name: String, _ shape: [Int], _ values: [Float]) -> CT2Variable {
        CT2Variable(name: name, dtype: 4, shape: shape, bytes: values.flatMap { littleEndian(Float16($0).bitPattern) })
    }
    /// Truncating conversion: use values exact in bfloat16.
    static func bf16(_ name: String, _ shape: [Int], _ values: [Float]) -> CT2Variable {
        CT2Variable(name: name, dtype: 5, shape: shape, bytes: values.flatMap { littleEndian(UInt16($0.bitPattern >> 16)) })
    }
    static func i8(_ name: String, _ shape: [Int], _ values: [Int8]) -> CT2Variable {
        CT2Variable(name: name, dtype: 1, shape: shape, bytes: values.map { UInt8(bitPattern: $0) })
    }
    static func i16(_ name: String, _ shape: [Int], _ values: [Int16]) -> CT2Variable {
        CT2Variable(name: name, dtype: 2, shape: shape, bytes: values.flatMap { littleEndian($0) })
    }
    static func i32(_ name: String, _ shape: [Int], _ values: [Int32]) -> CT2Variable {
        CT2Variable(name: name, dtype: 3, shape: shape, bytes: values.flatMap { littleEndian($0) })
    }
}

/// Writes model.bin files, including broken ones.
enum CTranslate2FileBuilder {
    static func string(_ text: String) -> [UInt8] {
        let utf8 = Array(text.utf8)
        return littleEndian(UInt16(utf8.count + 1)) + utf8 + [0]
    }

    /// Variables sorted by name, as the serializer writes them. Before version 4 the dtype byte is the item size and
    /// the length field the element count (model.cc `get_dtype_from_item_size`).
    static func bytes(version: UInt32 = 6, spec: String = "WhisperSpec", revision: UInt32 = 3, variables: [CT2Variable],
                      aliases: [(String, String)] = []) -> [UInt8] {
        var file = littleEndian(version)
        if version >= 2 { file += string(spec) + littleEndian(revision) }
        file += littleEndian(UInt32(variables.count))
        for variable in variables.sorted(by: { $0.name < $1.name }) {
            file += string(variable.name) + [UInt8(variable.shape.count)]
            for dimension in variable.shape { file += littleEndian(UInt32(dimension)) }
            if version >= 4 {
                file += [variable.dtype] + littleEndian(UInt32(variable.bytes.count))
            } else {
                let itemSize: UInt8 = [0: 4, 1: 1, 2: 2][variable.dtype]!
                file += [itemSize] + littleEndian(UInt32(variable.bytes.count / Int(itemSize)))
            }
            file += variable.bytes
        }
        if version >= 3 {
            file += littleEndian(UInt32(aliases.count))
            for (alias, target) in aliases { file += string(alias) + string(target) }
        }
        return file
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { throw CocoaError(.fileWriteUnknown) }
    }
}

@Suite("CTranslate2 model.bin reader")
struct CTranslate2ModelTests {
    static let sample: [CT2Variable] = [
        .f32("encoder/a/weight", [2, 3], [1, -2, 3.5, 0, -0.25, 1e-30]),
        .f16("encoder/b/bias", [3], [0.5, -65504, 6.1035156e-05]),
        .bf16("encoder/c/gamma", [2], [1.5, -3.0]),
        .i16("encoder/num_heads", [], [6]),
        .i8("decoder/flag", [], [1]),
        CT2Variable(name: "encoder/empty", dtype: 0, shape: [0, 4], bytes: []),
    ]

    func open(_ bytes: [UInt8], in temporary: TemporaryDirectory = TemporaryDirectory()) -> Result<CTranslate2Model, ModelError> {
        let path = temporary.file("model-\(UUID().uuidString).bin")
        do {
            try CTranslate2FileBuilder.write(bytes, to: path)
            return .success(try CTranslate2Model(contentsOf: path))
        } catch let error as ModelError {
            return .failure(error)
        } catch {
            Issue.record("unexpected \(error)")
            return .failure(.ioError(path: path, reason: "\(error)"))
        }
    }

    func reason(_ bytes: [UInt8]) -> String? {
        if case .failure(.invalidModelBinary(_, let reason)) = open(bytes) { return reason }
        return nil
    }

    @Test("a valid version-6 file: spec, variables, shapes, dtypes, exact float values, attributes, aliases")
    func valid() throws {
        let bytes = CTranslate2FileBuilder.bytes(variables: Self.sample, aliases: [
            ("encoder/a2/weight", "encoder/a/weight"),   // alias
            ("encoder/a3/weight", "encoder/a2/weight"),  // alias of an alias
            ("encoder/b/bias", "encoder/a/weight"),      // never replaces a variable
            ("encoder/ghost", "encoder/missing"),        // to nothing: ignored, as CTranslate2 does
        ])
        let model = try open(bytes).get()
        #expect(model.binaryVersion == 6 && model.specName == "WhisperSpec" && model.specRevision == 3)
        #expect(model.variableNames == Self.sample.map(\.name).sorted())
        #expect(model.aliases == ["encoder/a2/weight": "encoder/a/weight", "encoder/a3/weight": "encoder/a/weight"])
        #expect(model.variable("encoder/a/weight")?.dtype == .float32 && model.variable("encoder/a/weight")?.shape == [2, 3])
        #expect(model.variable("encoder/num_heads")?.shape == [] && model.variable("encoder/c/gamma")?.dtype == .bfloat16)
        #expect(try model.floats("encoder/a/weight") == [1, -2, 3.5, 0, -0.25, 1e-30])
        #expect(try model.floats("encoder/a3/weight") == [1, -2, 3.5, 0, -0.25, 1e-30])
        #expect(try model.floats("encoder/b/bias") == [0.5, -65504, 6.1035156e-05])
        #expect(try model.floats("encoder/c/gamma") == [1.5, -3])
        #expect(try model.floats("encoder/empty") == [])
        #expect(try model.integer("encoder/num_heads") == 6)
        #expect(try model.integer("decoder/flag") == 1)
        #expect(try model.integer("encoder/absent") == nil)
        #expect(model.variable("encoder/ghost") == nil)
        #expect(model.allNames.contains("encoder/a2/weight"))
        // Every variable's byte range lies inside the file, in order, without overlaps.
        let ranges = model.variableNames.compactMap { model.variable($0)?.byteRange }.sorted { $0.lowerBound < $1.lowerBound }
        for (a, b) in zip(ranges, ranges.dropFirst()) { #expect(a.upperBound <= b.lowerBound) }
        #expect((ranges.last?.upperBound ?? 0) <= bytes.count)
        // A float attribute is not an integer; a matrix is not a scalar.
        #expect(throws: ModelError.self) { try model.integer("encoder/c/gamma") }
        #expect(throws: ModelError.self) { try model.integer("encoder/a/weight") }
    }

    @Test("older binary versions: 5 and 4 (typed), 3 (item sizes, element counts), 2 (no aliases), 1 (no spec name)")
    func olderVersions() throws {
        let typed = [CT2Variable.f32("w", [2], [1, 2]), .i16("q", [2], [3, -4]), .i8("r", [1], [-5])]
        for version: UInt32 in [5, 4] {
            let model = try open(CTranslate2FileBuilder.bytes(version: version, variables: typed, aliases: [("x", "w")])).get()
            #expect(model.binaryVersion == Int(version) && model.aliases == ["x": "w"])
            #expect(model.variable("q")?.dtype == .int16)
        }
        let v3 = try open(CTranslate2FileBuilder.bytes(version: 3, variables: typed, aliases: [("x", "w")])).get()
        #expect(v3.variable("w")?.dtype == .float32 && v3.variable("q")?.dtype == .int16 && v3.variable("r")?.dtype == .int8)
        #expect(v3.variable("q")?.byteRange.count == 4 && v3.aliases == ["x": "w"])
        #expect(try v3.floats("w") == [1, 2])
        let v2 = try open(CTranslate2FileBuilder.bytes(version: 2, spec: "TransformerSpec", revision: 1, variables: typed)).get()
        #expect(v2.specName == "TransformerSpec" && v2.aliases.isEmpty && v2.variableNames == ["q", "r", "w"])
        let v1 = try open(CTranslate2FileBuilder.bytes(version: 1, variables: typed)).get()
        #expect(v1.specName == "" && v1.specRevision == 1 && v1.variableNames == ["q", "r", "w"])
        // The Whisper layer refuses what is not a Whisper spec.
        #expect(throws: ModelError.unsupportedSpec(path: v1.path, spec: "", revision: 1)) { try CTranslate2Whisper.checkSpec(of: v1) }
    }

    @Test("unsupported binary versions")
    func badVersions() {
        for version: UInt32 in [0, 7, 0xFFFF_FFFF] {
            let result = open(CTranslate2FileBuilder.bytes(version: version, variables: [.f32("w", [1], [1])]))
            guard case .failure(.unsupportedFormatVersion(let path, let reported)) = result else {
                Issue.record("version \(version): \(result)")
                continue
            }
            #expect(reported == Int(version))
            let error = ModelError.unsupportedFormatVersion(path: path, version: reported)
            #expect(error.description.hasPrefix(path + ": ") && error.description.contains("1–6"))
            #expect(!error.description.contains("\n") && error.hint != nil)
        }
    }

    @Test("every truncation of a valid file is a typed error naming the offset")
    func truncations() {
        let bytes = CTranslate2FileBuilder.bytes(variables: Self.sample, aliases: [("encoder/a2/weight", "encoder/a/weight")])
        let temporary = TemporaryDirectory()
        for length in 0..<bytes.count {
            switch open(Array(bytes.prefix(length)), in: temporary) {
            case .failure(.invalidModelBinary(_, let reason)):
                #expect(reason.contains("truncated") || reason.contains("shorter") || reason.contains("cannot fit")
                        || reason.contains("NUL"), "\(length): \(reason)")
            case let other:
                Issue.record("truncated to \(length) of \(bytes.count) bytes: \(other)")
            }
        }
        // The whole file, and the whole file plus trailing bytes (ignored, as CTranslate2 does), parse.
        #expect((try? open(bytes, in: temporary).get()) != nil)
        #expect((try? open(bytes + [1, 2, 3], in: temporary).get()) != nil)
    }

    @Test("unknown dtype ids and item sizes, absurd counts, ranks, shapes and lengths, bad names")
    func malformed() {
        func header(_ count: UInt32) -> [UInt8] {
            littleEndian(UInt32(6)) + CTranslate2FileBuilder.string("WhisperSpec") + littleEndian(UInt32(3)) + littleEndian(count)
        }
        let name = CTranslate2FileBuilder.string("w")
        // dtype id 9
        #expect(reason(header(1) + name + [1] + littleEndian(UInt32(2)) + [9] + littleEndian(UInt32(2)) + [0, 0] + littleEndian(UInt32(0)))?
            .contains("unknown dtype id 9") == true)
        // version 3 with item size 3
        #expect(reason(littleEndian(UInt32(3)) + CTranslate2FileBuilder.string("S") + littleEndian(UInt32(1)) + littleEndian(UInt32(1))
                       + name + [1] + littleEndian(UInt32(1)) + [3] + littleEndian(UInt32(1)) + [0, 0, 0] + littleEndian(UInt32(0)))?
            .contains("unknown item size 3") == true)
        // 4 billion variables in a few bytes
        #expect(reason(header(0xFFFF_FFFF) + [0, 0, 0, 0])?.contains("cannot fit") == true)
        // rank 200
        #expect(reason(header(1) + name + [200] + [UInt8](repeating: 0, count: 64))?.contains("rank 200") == true)
        // 2³² × 2³² × 2³² elements
        #expect(reason(header(1) + name + [3] + littleEndian(UInt32.max) + littleEndian(UInt32.max) + littleEndian(UInt32.max)
                       + [0] + littleEndian(UInt32(0)) + [0, 0, 0, 0])?.contains("implausible shape") == true)
        // the byte count disagrees with the shape
        #expect(reason(header(1) + name + [1] + littleEndian(UInt32(3)) + [0] + littleEndian(UInt32(8))
                       + [UInt8](repeating: 0, count: 8) + littleEndian(UInt32(0)))?.contains("needs 12 bytes, the file gives 8") == true)
        // the data runs past the end
        #expect(reason(header(1) + name + [1] + littleEndian(UInt32(1_000_000)) + [0] + littleEndian(UInt32(4_000_000))
                       + [0, 0, 0, 0])?.contains("truncated") == true)
        // a string without its NUL, an empty name, a name that is not UTF-8, a duplicate name
        #expect(reason(header(1) + littleEndian(UInt16(2)) + [65, 66] + [0] + [0] + littleEndian(UInt32(0)) + [0, 0, 0, 0])?
            .contains("not NUL-terminated") == true)
        #expect(reason(header(1) + CTranslate2FileBuilder.string("") + [0, 0] + littleEndian(UInt32(0)) + [0, 0, 0, 0])?
            .contains("empty name") == true)
        #expect(reason(header(1) + littleEndian(UInt16(3)) + [0xFF, 0xFE, 0] + [0, 0] + littleEndian(UInt32(0)) + [0, 0, 0, 0])?
            .contains("not UTF-8") == true)
        let scalar = name + [0, 0] + littleEndian(UInt32(4)) + [0, 0, 0, 0]
        #expect(reason(header(2) + scalar + scalar + littleEndian(UInt32(0)))?.contains("appears twice") == true)
        // 4 billion aliases
        #expect(reason(header(1) + scalar + littleEndian(UInt32.max) + [0, 0])?.contains("aliases cannot fit") == true)
        // Descriptions are one line, start with the path, and come with a hint.
        let error = ModelError.invalidModelBinary(path: "/m/model.bin", reason: "x")
        #expect(error.description == "/m/model.bin: invalid CTranslate2 model.bin: x" && error.hint != nil)
    }

    @Test("random corruption of a valid file never crashes: it parses (every value in bounds) or gives a typed error")
    func corruption() {
        let bytes = CTranslate2FileBuilder.bytes(variables: Self.sample, aliases: [("encoder/a2/weight", "encoder/a/weight")])
        let temporary = TemporaryDirectory()
        var random = SeededGenerator(seed: 0x9E37_79B9_7F4A_7C15)
        var parsed = 0, refused = 0, valuesRead = 0
        for trial in 0..<300 {
            var corrupt = bytes
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                corrupt[Int.random(in: 0..<corrupt.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            switch open(corrupt, in: temporary) {  // any error other than ModelError is recorded by open()
            case .failure(let error):
                refused += 1
                #expect(!error.description.contains("\n") && error.description.hasPrefix(temporary.path), "\(trial): \(error)")
            case .success(let model):
                parsed += 1
                for name in model.allNames {
                    guard let variable = model.variable(name) else { Issue.record("\(trial): \(name) listed, absent"); continue }
                    #expect(variable.byteRange.upperBound <= corrupt.count, "\(trial): \(name) ends past the file")
                    do {
                        let values = try model.floats(name)
                        #expect(values.count == variable.shape.reduce(1, *), "\(trial): \(name) \(variable.shape)")
                        valuesRead += 1
                    } catch {
                        // A typed refusal (a corrupted dtype or scale; `floats` throws only ModelError) is fine.
                        _ = error
                    }
                }
            }
        }
        // Both outcomes occur with this seed (a corrupted value byte still parses; a corrupted count or name does
        // not): a reader that refused everything, or accepted everything, would fail here.
        #expect(parsed + refused == 300)
        #expect(parsed >= 30 && refused >= 30, "parsed \(parsed), refused \(refused)")
        #expect(valuesRead > 0)
    }

    @Test("missing, unreadable and empty files")
    func files() throws {
        let temporary = TemporaryDirectory()
        #expect(throws: ModelError.missingFile(path: temporary.file("absent.bin"))) {
            try CTranslate2Model(contentsOf: temporary.file("absent.bin"))
        }
        #expect(throws: ModelError.notARegularFile(path: temporary.path)) {
            try CTranslate2Model(contentsOf: temporary.path)
        }
        #expect(reason([]) == "the file is 0 bytes, shorter than the 4-byte version")
    }

    @Test("int8 dequantization: one scale per output row, exactly CTranslate2's q · (1 / scale), conv rows included")
    func int8() throws {
        let q: [Int8] = [127, -127, 3, -1, 0, 64, 5, -128, 77, 1, 2, -3]
        let powers: [Float] = [2, 0.5, 4]  // exact either way
        let scales: [Float] = [127 / 3.7, 127 / 0.0123, 127 / 11]  // as model_spec.py computes them: 127 / amax
        let model = try open(CTranslate2FileBuilder.bytes(variables: [
            .i8("linear/weight", [3, 4], q), .f32("linear/weight_scale", [3], powers),
            .i8("conv/weight", [3, 2, 2], q), .f32("conv/weight_scale", [3], scales),
            .i8("scalar/weight", [2, 6], q), .f32("scalar/weight_scale", [], [8]),
            .i8("half/weight", [3, 4], q), .f16("half/weight_scale", [3], powers),
            .i8("unscaled/weight", [3, 4], q),
            .i8("wrong/weight", [3, 4], q), .f32("wrong/weight_scale", [2], [1, 1]),
            .i8("intscale/weight", [3, 4], q), .i8("intscale/weight_scale", [3], [1, 1, 1]),
            .i8("full/weight", [1, 256], (-128...127).map { Int8($0) }), .f32("full/weight_scale", [1], [127 / 3.7]),
        ], aliases: [("copy/weight", "conv/weight")])).get()
        #expect(try model.floats("linear/weight") == (0..<12).map { Float(q[$0]) / powers[$0 / 4] })
        #expect(try model.floats("half/weight") == (0..<12).map { Float(q[$0]) / powers[$0 / 4] })
        #expect(try model.floats("scalar/weight") == q.map { Float($0) / 8 })
        // [out, in, k] = [3, 2, 2]: each output channel's 4 values share its scale.
        let conv = (0..<12).map { Float(q[$0]) * (1 / scales[$0 / 4]) }
        #expect(try model.floats("conv/weight") == conv)
        // The alias reads the target's bytes and the target's scale (CTranslate2 aliases `_scale` too).
        #expect(try model.floats("copy/weight") == conv)
        #expect(model.scaleName(of: "copy/weight") == "conv/weight_scale")
        // Every int8 value with scale 127 / 3.7: the reciprocal form differs from q / scale in the last bit for 70 of
        // the 256 values, so this tells CTranslate2's form (the one used) from a plain division.
        let scale: Float = 127 / 3.7
        let reciprocal = (-128...127).map { Float($0) * (1 / scale) }
        #expect(try model.floats("full/weight") == reciprocal)
        #expect(reciprocal != (-128...127).map { Float($0) / scale })

        let path = model.path
        #expect(throws: ModelError.missingTensor(path: path, tensor: "unscaled/weight_scale")) { try model.floats("unscaled/weight") }
        if case .invalidModelBinary(_, let reason)? = Self.error({ () throws(ModelError) in try model.floats("wrong/weight") }) {
            #expect(reason.contains("needs 1 or 3"))
        } else { Issue.record("a scale of the wrong length should be refused") }
        if case .invalidModelBinary(_, let reason)? = Self.error({ () throws(ModelError) in try model.floats("intscale/weight") }) {
            #expect(reason.contains("float scale"))
        } else { Issue.record("an integer scale should be refused") }
    }

    @Test("int16 dequantization: one scalar scale (model_spec.py: 2¹⁰ / amax), q · (1 / scale); int32 is refused")
    func int16() throws {
        let q: [Int16] = [1024, -1024, 32767, -32768, 0, 1, -1, 517]
        let scale: Float = 1024 / 0.731
        let model = try open(CTranslate2FileBuilder.bytes(variables: [
            .i16("w/weight", [2, 4], q), .f32("w/weight_scale", [], [scale]),
            .i32("n/weight", [2], [1, 2]),
        ])).get()
        #expect(try model.floats("w/weight") == q.map { Float($0) * (1 / scale) })
        #expect(throws: ModelError.unsupportedDType(path: model.path, tensor: "n/weight", dtype: "I32")) { try model.floats("n/weight") }
    }

    static func error(_ body: () throws(ModelError) -> [Float]) -> ModelError? {
        do { _ = try body(); return nil } catch { return error }
    }
}
