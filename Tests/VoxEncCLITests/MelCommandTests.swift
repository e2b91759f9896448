// Runs the built `voxenc` binary as a user would: outputs, exit codes, one-line errors, nothing left behind.

import Foundation
import Testing
@_spi(Engine) import VoxEnc
import VoxEncModel
import VoxEncAudio
import VoxEncTestSupport

@Suite("voxenc mel (the real binary)")
struct MelCommandTests {
    @Test("writes the speech sample's log-mel matching WhisperFeatureExtractor, 128 and 80 bins", arguments: [128, 80])
    func writesReferenceMel(melBins: Int) throws {
        let directory = TemporaryDirectory()
        let output = directory.file("speech.npy")
        let result = try VoxEncProcess.run(["mel", Fixtures.path("audio/speech-16k.wav"), "-o", output,
                                            "--mel-bins", "\(melBins)"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(output) && result.stdout.contains("[\(melBins), 3000]"))
        let written = try NumpyArray(contentsOf: output)
        #expect(written.shape == [melBins, 3000])
        let index = try Fixtures.frontEndIndex()
        let mel = index.signals.first { $0.name == "speech_16k_wav" }!.mels["\(melBins)"]!
        let reference = try Fixtures.numpy("frontend/\(mel.file)")
        var selected: [Float] = []
        for m in 0..<melBins { for f in mel.frames { selected.append(written.values[m * 3000 + f]) } }
        let discrepancy = Discrepancy(selected, reference.values)
        #expect(discrepancy.maxAbsolute <= FrontEndTolerance.melMaxAbsolute && discrepancy.meanAbsolute <= FrontEndTolerance.melMeanAbsolute,
                "\(discrepancy)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["speech.npy"])
    }

    @Test("22.05 kHz stereo FLAC goes through downmix and soxr HQ to the reference mel")
    func stereoFlacThroughResampler() throws {
        let directory = TemporaryDirectory()
        let output = directory.file("stereo.npy")
        let result = try VoxEncProcess.run(["mel", Fixtures.path("audio/speech-22k-stereo.flac"), "-o", output])
        #expect(result.status == 0, "\(result.stderr)")
        let written = try NumpyArray(contentsOf: output)
        try #require(written.shape == [128, 3000], "the default is 128 bins: \(written.shape)")  // else no indexing below
        let mel = try Fixtures.frontEndIndex().signals.first { $0.name == "speech_22k_stereo_flac" }!.mels["128"]!
        let reference = try Fixtures.numpy("frontend/\(mel.file)")
        var selected: [Float] = []
        for m in 0..<128 { for f in mel.frames { selected.append(written.values[m * 3000 + f]) } }
        let discrepancy = Discrepancy(selected, reference.values)
        // The front end's own bound: Debian's libsoxr and the wheel's resample bit-identically (docs/numerics.md),
        // so downmix + soxr add nothing; measured 2.7e-5 max, 1.6e-7 mean.
        #expect(discrepancy.maxAbsolute <= FrontEndTolerance.melMaxAbsolute && discrepancy.meanAbsolute <= FrontEndTolerance.melMeanAbsolute,
                "\(discrepancy)")
        if ProcessInfo.processInfo.environment["VOXENC_REPORT"] != nil { print("PARITY mel stereo flac via soxr: \(discrepancy)") }
    }

    @Test("bad inputs: one line on stderr naming the file, sysexits code, no output file")
    func badInputs() throws {
        let directory = TemporaryDirectory()
        let output = directory.file("out.npy")
        let garbage = directory.file("garbage.wav")
        _ = FileManager.default.createFile(atPath: garbage, contents: Data("not audio at all".utf8))
        let m4a = directory.file("voice.m4a")
        _ = FileManager.default.createFile(atPath: m4a, contents: Data([0, 0, 0, 0x18] + Array("ftypM4A ".utf8) + [UInt8](repeating: 0, count: 32)))
        let cases: [(String, Int32)] = [(directory.file("missing.wav"), 66), (directory.path, 66), (garbage, 65), (m4a, 65)]
        for (input, status) in cases {
            let result = try VoxEncProcess.run(["mel", input, "-o", output])
            #expect(result.status == status, "\(input): \(result.status) \(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].hasPrefix("voxenc: error: ") && lines[0].contains(input),
                    "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: output))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["garbage.wav", "voice.m4a"])
    }

    @Test("an existing output is kept unless --force; an output that is a directory is refused")
    func existingOutput() throws {
        let directory = TemporaryDirectory()
        let output = directory.file("out.npy")
        _ = FileManager.default.createFile(atPath: output, contents: Data("keep me".utf8))
        let input = Fixtures.path("audio/speech-16k.wav")
        let refused = try VoxEncProcess.run(["mel", input, "-o", output])
        #expect(refused.status == 73 && refused.stderr.contains("--force"))
        #expect(FileManager.default.contents(atPath: output) == Data("keep me".utf8))
        let forced = try VoxEncProcess.run(["mel", input, "-o", output, "--force"])
        #expect(forced.status == 0)
        #expect(try NumpyArray(contentsOf: output).shape == [128, 3000])
        let intoDirectory = try VoxEncProcess.run(["mel", input, "-o", directory.path])
        #expect(intoDirectory.status == 73)
        let missingDirectory = try VoxEncProcess.run(["mel", input, "-o", directory.file("no/such/dir/out.npy")])
        #expect(missingDirectory.status == 73)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["out.npy"])
    }

    @Test("a file-size limit mid-write fails with exit 74 and leaves nothing behind",
          .disabled(if: VoxEncProcess.isThreadSanitized, "the TSan runtime cannot start under ulimit -f"))
    func fileSizeLimit() throws {
        let directory = TemporaryDirectory()
        let output = directory.file("out.npy")
        // ulimit -f counts 512-byte blocks on Linux shells: 100 blocks = 51 kB < 1.5 MB of output.
        let result = try VoxEncProcess.runShell(
            "ulimit -f 100; exec \"$VOXENC\" mel \"$INPUT\" -o \"$OUTPUT\"",
            environment: ["INPUT": Fixtures.path("audio/speech-16k.wav"), "OUTPUT": output])
        #expect(result.status == 74, "\(result.status) \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test("usage errors exit 64; --help works for every command")
    func usage() throws {
        #expect(try VoxEncProcess.run(["mel", Fixtures.path("audio/speech-16k.wav"), "--mel-bins", "64"]).status == 64)
        #expect(try VoxEncProcess.run(["mel", "--no-such-flag", "x.wav"]).status == 64)
        #expect(try VoxEncProcess.run(["frobnicate"]).status == 64)
        let help = try VoxEncProcess.run(["--help"])
        #expect(help.status == 0 && help.stdout.contains("mel"))
        let melHelp = try VoxEncProcess.run(["mel", "--help"])
        #expect(melHelp.status == 0 && melHelp.stdout.contains("--mel-bins") && melHelp.stdout.contains("--channel"))
    }
}

@Suite("Damaged but readable audio")
struct DamagedAudioTests {
    /// A 5 s 16-bit WAV, cut in the middle of a frame, or with a data chunk that claims far more than the file holds
    /// (what streaming writers leave behind): voxenc embeds the frames that are there and warns on stderr.
    @Test("truncated mid-frame, and a header that overstates the data: decoded with a warning")
    func truncatedAndOverstated() throws {
        let directory = TemporaryDirectory()
        let good = directory.file("good.wav")
        let tone = (0..<80000).map { Float(0.3 * sin(2 * Double.pi * 440 * Double($0) / 16000)) }
        try TestAudioWriter.write(tone, channels: 1, sampleRate: 16000, format: .wavPCM16, to: good)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        let truncated = directory.file("truncated.wav")
        try bytes.prefix(bytes.count / 2 + 1).write(to: URL(fileURLWithPath: truncated))
        var overstated = bytes
        let dataTag = overstated.range(of: Data("data".utf8))!.upperBound
        overstated.replaceSubrange(dataTag..<(dataTag + 4), with: [0x00, 0xFF, 0xFF, 0x7F])
        let liar = directory.file("overstated.wav")
        try overstated.write(to: URL(fileURLWithPath: liar))

        // (file, its length as printed, frames that are all tone, the first frame that is all padding: a 400-sample
        // window centred at 160·f reaches back 200 samples).
        for (path, seconds, toneFrames, paddingFrom) in [(truncated, 2.49, 248, 253), (liar, 5.0, 499, 502)] {
            let output = path + ".npy"
            let result = try VoxEncProcess.run(["mel", path, "-o", output])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.hasPrefix("voxenc: warning: \(path): the header declares"), "\(result.stderr)")
            #expect(result.stdout.contains(String(format: "%.2f", seconds)), "\(result.stdout)")
            let mel = try NumpyArray(contentsOf: output)
            #expect(mel.shape == [128, 3000])
            guard mel.shape == [128, 3000] else { continue }
            // Values, not only the shape: every frame of the decoded tone peaks in the mel bin whose reference
            // filter weighs FFT bin 11 (440 Hz) most, and every frame well past the decoded end is padding, which
            // the whole-audio clamp puts at its floor (the mel's minimum). An all-zero decode, a wrong length, or
            // a mel without the clamp fails here.
            var peaks = 0
            for frame in 1..<(toneFrames - 1) {
                let column = (0..<128).map { mel.values[$0 * 3000 + frame] }
                if column.indices.max(by: { column[$0] < column[$1] }) == Self.bin440 { peaks += 1 }
            }
            #expect(peaks == toneFrames - 2, "\(path): \(peaks) of \(toneFrames - 2) frames peak at 440 Hz")
            let floor = mel.values.min()!
            let padding = mel.values.indices.filter { $0 % 3000 >= paddingFrom }
            #expect(padding.allSatisfy { mel.values[$0] == floor }, "\(path): frames after \(seconds) s are not padding")
            #expect(mel.values.max()! - floor == 2, "\(path): the clamp spans max − 8 in log10, 2 after (x + 4) / 4")
        }
    }

    /// The mel bin whose reference filter (WhisperFeatureExtractor's, committed) weighs FFT bin 11 = 440 Hz most.
    static let bin440: Int = {
        let filters = try! Fixtures.numpy("frontend/filters-128.npy")  // [201, 128]
        let row = Array(filters.values[(11 * 128)..<(12 * 128)])
        return row.indices.max { row[$0] < row[$1] }!
    }()
}
