// What the fuzzers (Tests/Fuzz, libFuzzer) found, as tests: each minimised crasher is committed under
// Tests/Fuzz/Corpus/<target>/regression-* (also a seed) and must now give its result or a typed error. And a replay of
// every committed seed of the model-file and .npy fuzzers through the same calls: valid seeds load, `broken-*` seeds
// throw their typed error, nothing crashes. (The audio seeds: VoxEncAudioTests/FuzzRegressionTests.swift.)

import Foundation
import Testing
@_spi(Engine) import VoxEnc
import VoxEncModel
import VoxEncAudio
import VoxEncTestSupport

/// Tests/Fuzz/Corpus: the fuzzers' committed seeds and regression inputs.
enum FuzzCorpus {
    static let directory = Fixtures.repositoryRoot.appendingPathComponent("Tests/Fuzz/Corpus")

    static func path(_ target: String, _ name: String) -> String {
        directory.appendingPathComponent(target).appendingPathComponent(name).path
    }

    /// The file names of one target's corpus, sorted. An unreadable or empty corpus stops the run (a precondition,
    /// not zero passing cases).
    static func names(_ target: String) -> [String] {
        let path = directory.appendingPathComponent(target).path
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
            preconditionFailure("\(path): \(error)")
        }
        let seeds = names.filter { !$0.hasPrefix(".") }.sorted()
        precondition(seeds.count >= 3, "\(path) holds \(seeds.count) seeds")
        return seeds
    }
}

@Suite("Fuzz regressions: safetensors, model.bin, .npy")
struct FuzzRegressionTests {
    // MARK: - Crashers

    @Test("a .npy whose header passes 64 KiB once re-encoded round-trips through version 2.0 (was a UInt16 trap)")
    func npyHeaderOver64KiB() throws {
        // Rank 21 825: "1," in the file's header, "1, " when written again; the writer's 16-bit length overflowed.
        let data = try Data(contentsOf: URL(fileURLWithPath: FuzzCorpus.path("numpy", "regression-rank-21825-header-over-64k.npy")))
        let array = try NumpyArray(data: data)
        #expect(array.shape == [Int](repeating: 1, count: 21_825) && array.values == [1.5])

        let encoded = [UInt8](array.encoded())
        #expect(encoded.prefix(8) == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 2, 0])  // numpy's choice: version 2.0
        let headerLength = Int(encoded[8]) | Int(encoded[9]) << 8 | Int(encoded[10]) << 16 | Int(encoded[11]) << 24
        #expect(headerLength > 0xFFFF && (12 + headerLength) % 64 == 0 && 12 + headerLength + 4 == encoded.count)
        #expect(encoded[12 + headerLength - 1] == UInt8(ascii: "\n"))
        let again = try NumpyArray(data: Data(encoded))
        #expect(again.shape == array.shape && again.values.map(\.bitPattern) == array.values.map(\.bitPattern))

        // One rank less still fits version 1.0, byte for byte as before.
        let smaller = [UInt8](NumpyArray(shape: [Int](repeating: 1, count: 21_824), values: [1.5]).encoded())
        #expect(smaller[6] == 1 && (10 + (Int(smaller[8]) | Int(smaller[9]) << 8)) % 64 == 0)
        #expect(try NumpyArray(data: Data(smaller)).shape.count == 21_824)
    }

    // MARK: - Seed replay

    @Test("every safetensors seed: valid ones open and convert, broken-* throw invalidHeader",
          arguments: FuzzCorpus.names("safetensors"))
    func safetensorsSeed(_ name: String) {
        let path = FuzzCorpus.path("safetensors", name)
        do {
            let file = try SafeTensors(contentsOf: path)
            #expect(!name.hasPrefix("broken-"), "\(name) opened")
            for tensor in file.tensorNames {
                let info = try #require(file.info(tensor))
                if info.dtype.isLoadable { #expect(try file.floats(tensor).count == info.elementCount) }
            }
        } catch ModelError.invalidHeader {
            #expect(name.hasPrefix("broken-"), "\(name) rejected")
        } catch {
            Issue.record("\(name): \(error)")
        }
    }

    @Test("every model.bin seed: valid ones open and convert, broken-* throw a typed error",
          arguments: FuzzCorpus.names("ctranslate2"))
    func ctranslate2Seed(_ name: String) {
        let path = FuzzCorpus.path("ctranslate2", name)
        do {
            let model = try CTranslate2Model(contentsOf: path)
            #expect(!name.hasPrefix("broken-"), "\(name) opened")
            for name in model.allNames {
                let variable = try #require(model.variable(name))
                // Quantized attributes (int16 `encoder/num_heads`) have no scale: integers, not floats.
                guard variable.dtype.isLoadable, !variable.dtype.isQuantized || model.scaleName(of: name) != nil else { continue }
                #expect(try model.floats(name).count == variable.elementCount)
            }
        } catch ModelError.invalidModelBinary, ModelError.unsupportedFormatVersion {
            #expect(name.hasPrefix("broken-"), "\(name) rejected")
        } catch {
            Issue.record("\(name): \(error)")
        }
    }

    @Test("every .npy seed: valid ones parse and round-trip bit for bit, broken-* throw NumpyFormatError",
          arguments: FuzzCorpus.names("numpy"))
    func numpySeed(_ name: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: FuzzCorpus.path("numpy", name)))
        do {
            let array = try NumpyArray(data: data)
            #expect(!name.hasPrefix("broken-"), "\(name) parsed")
            let again = try NumpyArray(data: array.encoded())
            #expect(again.shape == array.shape && again.values.map(\.bitPattern) == array.values.map(\.bitPattern))
        } catch {
            #expect(name.hasPrefix("broken-"), "\(name): \(error)")
        }
    }
}
