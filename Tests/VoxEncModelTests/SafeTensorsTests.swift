// The safetensors reader: exact upcasts of known F32/F16/BF16 bit patterns (what torch's `.to(torch.float32)` gives),
// and one typed error, naming the file and the tensor, for every kind of broken file.

import Foundation
import Testing
import VoxEncModel
import VoxEncTestSupport

@Suite("SafeTensors reader")
struct SafeTensorsTests {
    /// The ModelError a closure throws, or nil.
    func error(_ body: () throws -> Void) -> ModelError? {
        do { try body(); return nil } catch let error as ModelError { return error } catch {
            Issue.record("not a ModelError: \(error)")
            return nil
        }
    }

    func reason(_ error: ModelError?) -> String? {
        if case .invalidHeader(_, let reason)? = error { return reason }
        return nil
    }

    @Test("BF16 upcasts are the high 16 bits of a float32")
    func bfloat16BitPatterns() throws {
        let cases: [(UInt16, Float)] = [
            (0x3F80, 1.0), (0xBF80, -1.0), (0x4049, 3.140625),  // 0x4049 = float π (0x40490FDB) truncated
            (0xC049, -3.140625), (0x3EAB, 0.333984375), (0x0000, 0.0), (0x7F7F, 0x1.FEp127),  // largest finite
            (0x0080, 0x1p-126),  // smallest normal
            (0x0001, 0x1p-133),  // smallest subnormal
            (0x7F80, .infinity), (0xFF80, -.infinity),
        ]
        let directory = TemporaryDirectory()
        let path = directory.file("bf16.safetensors")
        try SafeTensorsFileBuilder.write([.bits16("x", dtype: "BF16", [cases.count + 2], cases.map(\.0) + [0x8000, 0x7FC1])],
                                         to: path)
        let values = try SafeTensors(contentsOf: path).floats("x")
        for (index, (bits, expected)) in cases.enumerated() {
            #expect(values[index].bitPattern == expected.bitPattern,
                    "bf16 0x\(String(bits, radix: 16)) → \(values[index]), expected \(expected)")
        }
        #expect(values[cases.count].bitPattern == 0x8000_0000, "bf16 -0 keeps its sign")
        #expect(values[cases.count + 1].bitPattern == 0x7FC1_0000, "bf16 NaN keeps its payload")
    }

    @Test("F16 upcasts are exact, subnormals, infinities and NaN included")
    func halfBitPatterns() throws {
        let cases: [(UInt16, Float)] = [
            (0x3C00, 1.0), (0xC000, -2.0), (0x3555, 0.333251953125), (0x7BFF, 65504),  // largest finite
            (0x0400, 0x1p-14),  // smallest normal, 6.1035156e-5
            (0x0001, 0x1p-24),  // smallest subnormal, 5.9604645e-8
            (0x03FF, 0x1.FF8p-15),  // largest subnormal
            (0x8001, -0x1p-24), (0x0000, 0), (0x7C00, .infinity), (0xFC00, -.infinity),
        ]
        let directory = TemporaryDirectory()
        let path = directory.file("f16.safetensors")
        try SafeTensorsFileBuilder.write([.bits16("x", dtype: "F16", [cases.count + 3], cases.map(\.0) + [0x8000, 0x7E00, 0x7E01])],
                                         to: path)
        let values = try SafeTensors(contentsOf: path).floats("x")
        for (index, (bits, expected)) in cases.enumerated() {
            #expect(values[index].bitPattern == expected.bitPattern,
                    "f16 0x\(String(bits, radix: 16)) → \(values[index]), expected \(expected)")
        }
        #expect(values[cases.count].bitPattern == 0x8000_0000, "f16 -0 keeps its sign")
        #expect(values[cases.count + 1].bitPattern == 0x7FC0_0000, "f16 quiet NaN")
        #expect(values[cases.count + 2].bitPattern == 0x7FC0_2000, "f16 NaN payload shifted into the float mantissa")
    }

    // Swift's `Float16` exists on x86-64 and arm64 only; elsewhere the test is reported as skipped, not absent.
    #if arch(x86_64) || arch(arm64)
    @Test("F16 upcast agrees with Swift's Float16 conversion on all 65536 bit patterns")
    func halfMatchesFloat16Everywhere() {
        var mismatches = 0
        for bits in 0...UInt16.max {
            let ours = SafeTensors.floatFromHalf(bits)
            let swift = Float(Float16(bitPattern: bits))
            if swift.isNaN ? !ours.isNaN : ours.bitPattern != swift.bitPattern { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }
    #else
    @Test("F16 upcast agrees with Swift's Float16 conversion on all 65536 bit patterns",
          .disabled("Swift has no Float16 on this architecture: the upcast is checked against the table values above only"))
    func halfMatchesFloat16Everywhere() {}
    #endif

    @Test("F32 is read bit for bit; metadata and zero-size tensors are allowed; F64 is recognised but not loaded")
    func float32AndOtherDTypes() throws {
        let values: [Float] = [1.5, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, .pi, -.infinity]
        let directory = TemporaryDirectory()
        let path = directory.file("mixed.safetensors")
        try SafeTensorsFileBuilder.write([
            .f32("a.weight", [2, 3], values),
            RawTensor(name: "empty", dtype: "F32", shape: [0, 4], bytes: []),
            RawTensor(name: "double", dtype: "F64", shape: [1], bytes: littleEndian(1.0.bitPattern)),
            RawTensor(name: "ids", dtype: "I8", shape: [3], bytes: [1, 2, 3]),
        ], to: path, metadata: ["format": "pt", "note": "test"])
        let file = try SafeTensors(contentsOf: path)
        #expect(file.tensorNames == ["a.weight", "double", "empty", "ids"])
        #expect(file.metadata == ["format": "pt", "note": "test"])
        #expect(file.info("a.weight")?.shape == [2, 3] && file.info("a.weight")?.dtype == .f32)
        #expect(try file.floats("a.weight").map(\.bitPattern) == values.map(\.bitPattern))
        #expect(try file.floats("empty").isEmpty)
        #expect(error { _ = try file.floats("double") } == .unsupportedDType(path: path, tensor: "double", dtype: "F64"))
        #expect(error { _ = try file.floats("ids") } == .unsupportedDType(path: path, tensor: "ids", dtype: "I8"))
        #expect(error { _ = try file.floats("absent") } == .missingTensor(path: path, tensor: "absent"))
    }

    @Test("missing file, directory, file shorter than 8 bytes, header length past the end or absurd")
    func lengthsAndFiles() throws {
        let directory = TemporaryDirectory()
        let absent = directory.file("absent.safetensors")
        #expect(error { _ = try SafeTensors(contentsOf: absent) } == .missingFile(path: absent))
        #expect(error { _ = try SafeTensors(contentsOf: directory.path) } == .notARegularFile(path: directory.path))

        let tensors = [RawTensor.f32("w", [4], [1, 2, 3, 4])]
        let tiny = directory.file("tiny.safetensors")
        try SafeTensorsFileBuilder.write(tensors, to: tiny, truncatedTo: 5)
        #expect(reason(error { _ = try SafeTensors(contentsOf: tiny) })?.contains("shorter than the 8-byte") == true)

        let cut = directory.file("cut-header.safetensors")
        try SafeTensorsFileBuilder.write(tensors, to: cut, truncatedTo: 20)
        #expect(reason(error { _ = try SafeTensors(contentsOf: cut) })?.contains("runs past the end of the 20-byte file") == true)

        let long = directory.file("long.safetensors")
        try SafeTensorsFileBuilder.write(tensors, to: long, headerLength: 4096)
        let longError = error { _ = try SafeTensors(contentsOf: long) }
        #expect(longError?.path == long && reason(longError)?.contains("header length 4096 runs past") == true)

        let absurd = directory.file("absurd.safetensors")
        try SafeTensorsFileBuilder.write(tensors, to: absurd, headerLength: 1 << 40)
        #expect(reason(error { _ = try SafeTensors(contentsOf: absurd) })?.contains("exceeds") == true)
    }

    @Test("truncated data area: the tensor's offsets run past the end")
    func truncatedData() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("truncated.safetensors")
        let tensors = [RawTensor.f32("a", [2], [1, 2]), RawTensor.f32("b", [64], [Float](repeating: 3, count: 64))]
        let full = try JSONSerialization.data(withJSONObject: SafeTensorsFileBuilder.header(for: tensors), options: [.sortedKeys])
        let headerBytes = 8 + (full.count + 7) / 8 * 8
        try SafeTensorsFileBuilder.write(tensors, to: path, truncatedTo: headerBytes + 8 + 100)  // b needs 256 bytes
        let failure = error { _ = try SafeTensors(contentsOf: path) }
        #expect(failure?.path == path)
        #expect(reason(failure)?.contains("tensor b: data_offsets [8, 264] run past the end of the 108-byte data area") == true,
                "\(String(describing: failure))")
    }

    @Test("header not JSON, not an object, bad metadata")
    func headerNotJSON() throws {
        let directory = TemporaryDirectory()
        let tensors = [RawTensor.f32("w", [1], [1])]
        for (text, expected) in [("hello world", "not a JSON object"), ("{\"w\": {\"dtype\": ", "not valid JSON"),
                                 ("[1, 2, 3]", "not a JSON object"),
                                 ("{\"__metadata__\": {\"format\": 1}}", "__metadata__")] {
            let path = directory.file("bad.safetensors")
            try SafeTensorsFileBuilder.write(tensors, to: path, headerText: text)
            let failure = error { _ = try SafeTensors(contentsOf: path) }
            #expect(failure?.path == path)
            #expect(reason(failure)?.contains(expected) == true, "\(text): \(String(describing: failure))")
        }
    }

    @Test("entry errors name the tensor: unknown dtype, bad shape, bad offsets, shape × dtype ≠ bytes, overlap")
    func entryErrors() throws {
        let directory = TemporaryDirectory()
        let tensors = [RawTensor.f32("a", [2], [1, 2]), RawTensor.f32("b", [2], [3, 4])]
        func failure(_ edit: @escaping (inout [String: Any]) -> Void) throws -> String? {
            let path = directory.file("entry.safetensors")
            try SafeTensorsFileBuilder.write(tensors, to: path, editHeader: edit)
            let failure = error { _ = try SafeTensors(contentsOf: path) }
            #expect(failure?.path == path)
            return reason(failure)
        }
        func set(_ name: String, _ key: String, _ value: Any) -> (inout [String: Any]) -> Void {
            { header in
                var entry = header[name] as! [String: Any]
                entry[key] = value
                header[name] = entry
            }
        }
        #expect(try failure(set("b", "dtype", "Q9"))?.contains("tensor b: unknown dtype \"Q9\"") == true)
        #expect(try failure(set("a", "shape", [-2]))?.contains("tensor a: invalid shape [-2]") == true)
        #expect(try failure(set("a", "shape", [1.5]))?.contains("tensor a: shape [1.5] is not a list of integers") == true)
        #expect(try failure(set("a", "shape", [true]))?.contains("tensor a") == true)
        #expect(try failure(set("a", "data_offsets", [8, 0]))?.contains("tensor a: invalid data_offsets [8, 0]") == true)
        #expect(try failure(set("a", "data_offsets", [0]))?.contains("tensor a: invalid data_offsets") == true)
        #expect(try failure(set("b", "data_offsets", [8, 4008]))?.contains("tensor b: data_offsets [8, 4008] run past") == true)
        #expect(try failure(set("a", "shape", [3]))?.contains("tensor a: F32 [3] needs 12 bytes, data_offsets give 8") == true)
        #expect(try failure(set("a", "dtype", "F16"))?.contains("tensor a: F16 [2] needs 4 bytes") == true)
        #expect(try failure(set("b", "data_offsets", [4, 12]))?.contains("tensors a and b overlap") == true)
        #expect(try failure { $0["a"] = ["dtype": "F32", "shape": [2]] }?.contains("tensor a: missing \"data_offsets\"") == true)
    }

    @Test("every error's description starts with the file's path")
    func descriptionsNameTheFile() {
        let errors: [ModelError] = [
            .directoryNotFound(path: "/m"), .notADirectory(path: "/m"), .unrecognizedLayout(path: "/m", found: ["a.txt"]),
            .missingFile(path: "/m"), .notARegularFile(path: "/m"),
            .invalidConfiguration(path: "/m", reason: "r"), .invalidHeader(path: "/m", reason: "r"),
            .unsupportedDType(path: "/m", tensor: "t", dtype: "F64"), .missingTensor(path: "/m", tensor: "t"),
            .shapeMismatch(path: "/m", tensor: "t", expected: [1], actual: [2]),
            .nonFiniteWeights(path: "/m", tensor: "t", count: 3), .ioError(path: "/m", reason: "r"),
        ]
        for error in errors {
            #expect(error.description.hasPrefix("/m: "), "\(error)")
            #expect(!error.description.contains("\n"))
            if let tensor = error.tensor { #expect(error.description.contains(tensor)) }
        }
        #expect(ModelError.directoryNotFound(path: "/m").hint?.contains("huggingface-cli download") == true)
        #expect(ModelError.unrecognizedLayout(path: "/m", found: ["a.txt"]).description.contains("params.json"))
    }
}
