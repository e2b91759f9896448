// `voxenc embed` as a user runs it, against the reference's output for the committed speech sample.

import Foundation
import Testing
@_spi(Engine) import VoxEnc
import VoxEncModel
import VoxEncAudio
import VoxEncTestSupport

@Suite("voxenc embed (the real binary)")
struct EmbedCommandTests {
    static let voxtral = Fixtures.path("encoder/voxtral-tiny-hf")
    static let whisper = Fixtures.path("encoder/whisper-tiny-hf")
    static let speech = Fixtures.path("audio/speech-16k.wav")
    /// transformers' encoder states of the two tiny models on speech-16k.wav (Weights/tools/make_speech_references.py).
    static func referenceEncoder(_ model: String) throws -> [Float] {
        try SafeTensors(contentsOf: Fixtures.path("encoder/reference-speech-encoder.safetensors")).floats("\(model).encoder")
    }

    @Test("npy + sidecar match get_audio_features on real speech; the sidecar says 12.5 Hz, 375 rows, valid rows")
    func npyAndSidecar() throws {
        let directory = TemporaryDirectory()
        let output = directory.file("speech.npy")
        let result = try VoxEncProcess.run(["embed", Self.speech, "--model", Self.voxtral, "-o", output])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("[375, 96]"))
        let embeddings = try NumpyArray(contentsOf: output)
        #expect(embeddings.shape == [375, 96])
        let reference = try SafeTensors(contentsOf: Fixtures.path("encoder/reference-voxtral-speech.safetensors"))
        let d = Discrepancy(embeddings.values, try reference.floats("speech.adapter"))
        #expect(d.relativeL2 <= EncoderTolerance.endToEndRelativeL2, "\(d)")

        let sidecar = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory.file("speech.json")))) as! [String: Any]
        #expect(sidecar["frame_rate_hz"] as? Double == 12.5)
        #expect(sidecar["frame_count"] as? Int == 375)
        #expect(sidecar["rows_per_chunk"] as? Int == 375)
        #expect(sidecar["chunk_count"] as? Int == 1)
        #expect(sidecar["sample_rate"] as? Int == 16000)
        #expect(sidecar["n_mels"] as? Int == 128)
        let duration = 93388.0 / 16000  // the file's frames / rate
        #expect(abs((sidecar["duration_s"] as? Double ?? 0) - duration) <= OutputTolerance.durationSeconds)
        #expect(sidecar["valid_frame_count"] as? Int == Int((duration * 12.5).rounded(.up)))
        let model = sidecar["model"] as? [String: Any]
        #expect(model?["layout"] as? String == "huggingFaceVoxtral")
        #expect(model?["digest_sha256"] as? String == Fixtures.modelDigests["voxtral-tiny-hf"])  // hashlib's, from the files
        #expect(sidecar["voxenc_version"] as? String == VoxEncVersion.string)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["speech.json", "speech.npy"])
    }

    @Test("--format safetensors writes one file with the tensor and the metadata; --encoder-only gives 50 Hz states")
    func safetensorsAndEncoderOnly() throws {
        let directory = TemporaryDirectory()
        let result = try VoxEncProcess.run(["embed", Self.speech, "--model", Self.voxtral, "--output-dir", directory.path,
                                            "--format", "safetensors", "--encoder-only"])
        #expect(result.status == 0, "\(result.stderr)")
        let file = try SafeTensors(contentsOf: directory.file("speech-16k.safetensors"))
        #expect(file.info("embeddings")?.shape == [1500, 64])
        let d = Discrepancy(try file.floats("embeddings"), try Self.referenceEncoder("voxtral"))
        #expect(d.relativeL2 <= EncoderTolerance.endToEndRelativeL2, "encoder-only vs transformers' audio_tower: \(d)")
        #expect(file.metadata["frame_rate_hz"] == "50")
        #expect(file.metadata["kind"] == "encoder")
        #expect(file.metadata["valid_frame_count"] == "\(Int((93388.0 / 16000 * 50).rounded(.up)))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["speech-16k.safetensors"])
    }

    @Test("Whisper models give encoder states")
    func whisperEncoderStates() throws {
        let directory = TemporaryDirectory()
        let result = try VoxEncProcess.run(["embed", Self.speech, "--model", Self.whisper, "-o", directory.file("w.npy")])
        #expect(result.status == 0, "\(result.stderr)")
        let states = try NumpyArray(contentsOf: directory.file("w.npy"))
        #expect(states.shape == [1500, 64])
        let d = Discrepancy(states.values, try Self.referenceEncoder("whisper"))
        #expect(d.relativeL2 <= EncoderTolerance.endToEndRelativeL2, "vs transformers' Whisper encoder: \(d)")
    }

    @Test("no model, a missing model, a broken model: one line, sysexits code, no output")
    func modelErrors() throws {
        let directory = TemporaryDirectory()
        let output = directory.file("out.npy")
        let isolated = TemporaryDirectory()
        let noModel = try VoxEncProcess.runDetached(["embed", Self.speech, "-o", output], in: isolated.path,
                                                    environment: ["VOXENC_MODEL": ""])
        #expect(noModel.status == 64 && noModel.stderr.contains("install_models.py"), "\(noModel.stderr)")
        let missing = try VoxEncProcess.run(["embed", Self.speech, "--model", directory.file("nope"), "-o", output])
        #expect(missing.status == 66 && missing.stderr.contains(directory.file("nope")), "\(missing.stderr)")
        // A model directory whose weights are cut short.
        let broken = directory.file("broken")
        try FileManager.default.copyItem(atPath: Self.whisper, toPath: broken)
        let weights = broken + "/model.safetensors"
        let data = try Data(contentsOf: URL(fileURLWithPath: weights))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: weights))
        let truncated = try VoxEncProcess.run(["embed", Self.speech, "--model", broken, "-o", output])
        #expect(truncated.status == 65, "\(truncated.stderr)")
        #expect(truncated.stderr.split(separator: "\n").count == 1 && truncated.stderr.contains("model.safetensors"))
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test("--keep-going embeds the good files, reports the bad one, ends non-zero with a summary")
    func keepGoing() throws {
        let directory = TemporaryDirectory()
        let bad = directory.file("bad.wav")
        _ = FileManager.default.createFile(atPath: bad, contents: Data("not audio".utf8))
        let result = try VoxEncProcess.run(["embed", bad, Self.speech, "--model", Self.whisper, "--output-dir",
                                            directory.path, "--keep-going"])
        #expect(result.status == 65)
        #expect(result.stderr.contains("bad.wav") && result.stderr.contains("1 embedded, 0 skipped, 1 failed of 2 files"))
        #expect(FileManager.default.fileExists(atPath: directory.file("speech-16k.npy")))
        #expect(!FileManager.default.fileExists(atPath: directory.file("bad.npy")))
        // Without --keep-going the first failure stops the run.
        let stopped = try VoxEncProcess.run(["embed", bad, Self.speech, "--model", Self.whisper, "--output-dir",
                                             directory.path, "--force"])
        #expect(stopped.status == 65 && !stopped.stdout.contains("speech-16k"))
    }

    @Test("an existing output is kept unless --force")
    func existingOutput() throws {
        let directory = TemporaryDirectory()
        let output = directory.file("out.npy")
        _ = FileManager.default.createFile(atPath: output, contents: Data("keep".utf8))
        let refused = try VoxEncProcess.run(["embed", Self.speech, "--model", Self.whisper, "-o", output])
        #expect(refused.status == 73 && FileManager.default.contents(atPath: output) == Data("keep".utf8))
        let forced = try VoxEncProcess.run(["embed", Self.speech, "--model", Self.whisper, "-o", output, "--force"])
        #expect(forced.status == 0)
    }
}
