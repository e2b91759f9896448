// The pair-mean test family's loaded model and session (see PairMeanFamily.swift for the arithmetic).

import VoxEncModel

struct PairMeanModel: EncoderModel {
    let description: ModelDescription
    let policy: PrecisionPolicy
    /// proj.weight [W, M] and proj.bias [W].
    let weight: [Float]
    let bias: [Float]

    var melBins: Int { description.encoder.melBinCount }
    var width: Int { description.encoder.modelDimension }
    var hasAdapter: Bool { false }

    /// The Whisper front end's mel: whole-audio clamp, independent 3000-frame (30 s) steps.
    var frontEnd: FrontEndPolicy {
        FrontEndPolicy(melBinCount: melBins, clamp: .wholeAudioMaximum, steps: .independentChunks(melFrames: 3000))
    }

    func output(_ kind: EmbeddingKind) -> OutputGeometry {
        OutputGeometry(width: width, rowsPerStep: 1500, stepSeconds: frontEnd.stepSeconds)
    }

    func makeSession(capacity: Int, threads: Int) -> any EncoderSession {
        PairMeanSession(model: self, capacity: capacity)
    }
}

final class PairMeanSession: EncoderSession {
    let model: PairMeanModel
    let capacity: Int

    init(model: PairMeanModel, capacity: Int) {
        self.model = model
        self.capacity = capacity
    }

    func encode(mel: UnsafePointer<Float>, steps: Int, kind: EmbeddingKind,
                into output: UnsafeMutablePointer<Float>) -> (encoder: Double, adapter: Double) {
        precondition(steps <= capacity, "batch exceeds the session")
        let m = model.melBins, w = model.width, frames = 3000
        for step in 0..<steps {
            let block = mel + step * m * frames  // [M, 3000], bin-major
            for r in 0..<(frames / 2) {
                let row = output + (step * frames / 2 + r) * w
                for o in 0..<w {
                    var sum = model.bias[o]
                    for b in 0..<m {
                        sum += model.weight[o * m + b] * (0.5 * (block[b * frames + 2 * r] + block[b * frames + 2 * r + 1]))
                    }
                    row[o] = sum
                }
            }
        }
        return (0, 0)
    }

    func adapt(states: UnsafePointer<Float>, rows: Int, into output: UnsafeMutablePointer<Float>) {
        preconditionFailure("the pair-mean test family has no adapter")
    }
}
