// A test-only encoder family, made by following docs/architecture.md "Adding a model family" to the letter: this
// folder, plus one registry line (`EncoderFamilies.register(PairMeanFamily.self)` in PairMeanFamilyTests). The
// encoder is one layer: each pair of mel frames averaged, then one Linear —
//   row r of a step = W · ½ (mel[:, 2r] + mel[:, 2r + 1]) + b        [1500, W] per 30 s step of [M, 3000] mel
// Its directory: config.json {"model_type": "pair_mean_test", "num_mel_bins": M, "width": W} and
// model.safetensors with proj.weight [W, M] and proj.bias [W] (float32).

import Foundation
@_spi(Testing) import VoxEncModel

enum PairMeanFamily: EncoderFamily {
    static let name = "pair-mean-test"
    static let layout = CheckpointLayout(rawValue: "pairMeanTest")
    static let modelType = "pair_mean_test"

    static func recognises(directory: String) -> Bool {
        (try? configuration(directory)) != nil
    }

    static func load(directory: String, policy: PrecisionPolicy) throws(EncoderLoadError) -> any EncoderModel {
        do throws(ModelError) {
            let (melBins, width) = try configuration(directory)
            let path = directory + "/model.safetensors"
            let file = try SafeTensors(contentsOf: path)
            let weight = try file.floats("proj.weight"), bias = try file.floats("proj.bias")
            guard weight.count == width * melBins else {
                throw .shapeMismatch(path: path, tensor: "proj.weight", expected: [width, melBins],
                                     actual: file.info("proj.weight")?.shape ?? [])
            }
            guard bias.count == width else {
                throw .shapeMismatch(path: path, tensor: "proj.bias", expected: [width], actual: [bias.count])
            }
            var digest = SHA256()
            weight.withUnsafeBytes { digest.update($0) }
            bias.withUnsafeBytes { digest.update($0) }
            let description = ModelDescription(
                path: directory, layout: layout,
                encoder: EncoderConfiguration(melBinCount: melBins, modelDimension: width, layerCount: 1, headCount: 1,
                                              feedForwardDimension: width),
                adapter: nil, storedDType: "f32", parameterCount: weight.count + bias.count,
                digest: digest.finalize().map { String(format: "%02x", $0) }.joined())
            return PairMeanModel(description: description, policy: policy, weight: weight, bias: bias)
        } catch {
            throw .model(error)
        }
    }

    static func describe(directory: String, threads: Int) throws(ModelError) -> ModelSummary {
        let model: any EncoderModel
        do { model = try load(directory: directory, policy: .float32()) } catch {
            guard case .model(let error) = error else { preconditionFailure("float32 always runs") }
            throw error
        }
        let output = model.output(.encoder)
        return ModelSummary(family: name, description: model.description,
                            floatBytes: 4 * model.description.parameterCount,
                            activationBytesPerStep: 0, encoderOutput: output, adapterOutput: nil)
    }

    /// (mel bins, width) from config.json, or why it is not this family's.
    static func configuration(_ directory: String) throws(ModelError) -> (Int, Int) {
        let path = directory + "/config.json"
        guard let data = FileManager.default.contents(atPath: path),
              let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw .missingFile(path: path)
        }
        guard object["model_type"] as? String == modelType, let bins = object["num_mel_bins"] as? Int,
              let width = object["width"] as? Int, bins > 0, width > 0 else {
            throw .invalidConfiguration(path: path, reason: "not a \(modelType) config")
        }
        return (bins, width)
    }
}
