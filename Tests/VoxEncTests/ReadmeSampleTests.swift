// The README's Swift sample, compiled and run: the lines between the markers below are the README's ```swift block
// (minus its `import` and the one line that names the model and file, which the test sets to the fixtures). A
// sample that stops compiling fails the build; one edited in the README alone fails `readmeIsThisCode`.

import Foundation
import Testing
@_spi(Engine) import VoxEnc
import VoxEncModel
import VoxEncAudio
import VoxEncTestSupport

@Suite("README sample")
struct ReadmeSampleTests {
    /// What the sample prints, line by line: inside this type its `print` calls resolve to `Self.print` below (a
    /// type's members come before the standard library's functions), so the test reads the sample's own checks.
    @TaskLocal static var printed: PrintedLines?

    final class PrintedLines: @unchecked Sendable {
        var lines: [String] = []
    }

    static func print(_ items: Any...) {
        let line = items.map { "\($0)" }.joined(separator: " ")
        if let printed { printed.lines.append(line) } else { Swift.print(line) }
    }

    static func sample(modelDirectory: String, audio: String) async throws {
        // BEGIN README SAMPLE
        let embedder = try Embedder(modelDirectory: modelDirectory)         // load once; share between threads
        let result = try embedder.embed(fileAt: audio)                      // Embeddings: [375·N, 3072] + metadata
        print(result.frameRate, result.validFrameCount, result.timings.realTimeFactor)
        let row0 = result[frame: 0]                                         // one row

        // Stages: samples (16 kHz) → mel chunks → encoder states → adapter output (nil for Whisper models)
        let waveform = try Waveform(contentsOf: audio)
        let chunks = embedder.melChunks(samples: waveform.samples)
        let states = embedder.encode(chunks)                                // [N·1500, 1280]
        if let embeddings = embedder.adapt(states) { print(embeddings.count == result.values.count) }  // [N·375, 3072]

        // Long audio, one value per 30 s chunk, in order (cancellable):
        for try await chunk in embedder.chunkEmbeddings(of: waveform) { print(chunk.index, row0.count) }

        // The front end alone (VoxEncAudio links no BLAS):
        let mel = LogMelSpectrogram(configuration: .voxtral).compute(waveform.samples)   // [128, 3000·N]
        print(mel.frameCount)
        // END README SAMPLE
    }

    /// The lines of the README's ```swift block that the function above holds.
    static func readmeLines() throws -> [String] {
        let text = try String(contentsOfFile: Fixtures.repositoryRoot.appendingPathComponent("README.md").path, encoding: .utf8)
        let start = try #require(text.range(of: "```swift\n"))
        let end = try #require(text.range(of: "\n```", range: start.upperBound..<text.endIndex))
        return text[start.upperBound..<end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            .filter { !$0.hasPrefix("import ") && !$0.hasPrefix("let modelDirectory = ") }
    }

    static func codeLines() throws -> [String] {
        let text = try String(contentsOfFile: #filePath, encoding: .utf8)
        let start = try #require(text.range(of: "// BEGIN README SAMPLE\n"))
        let end = try #require(text.range(of: "        // END README SAMPLE"))
        return text[start.upperBound..<end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasPrefix("        ") ? String($0.dropFirst(8)) : String($0)
        }
    }

    @Test("the README's Swift block is the code compiled here, line for line")
    func readmeIsThisCode() throws {
        let readme = try Self.readmeLines().drop { $0.isEmpty }
        var code = try Self.codeLines()
        if code.last == "" { code.removeLast() }
        #expect(Array(readme) == code,
                "README.md's ```swift block and ReadmeSampleTests.sample differ")
    }

    @Test("the sample runs on the tiny Voxtral and the committed speech", .timeLimit(.minutes(2)))
    func sampleRuns() async throws {
        let audio = Fixtures.path("audio/speech-16k.wav"), model = Fixtures.path("encoder/voxtral-tiny-hf")
        let printed = PrintedLines()
        try await Self.$printed.withValue(printed) {
            try await Self.sample(modelDirectory: model, audio: audio)
        }
        // What the sample prints, checked against values found here independently of the sample: the file's
        // length in samples (so its chunks and valid rows), the model's output width.
        let samples = try Waveform(contentsOf: audio).samples.count
        let chunks = (samples + 480_000 - 1) / 480_000
        let width = try Embedder(modelDirectory: model).dimension
        let lines = printed.lines
        #expect(lines.count == 3 + chunks, "\(lines)")
        guard lines.count == 3 + chunks else { return }
        let first = lines[0].split(separator: " ")
        #expect(first.count == 3 && first[0] == "12.5", "frame rate, valid rows, real-time factor: \(lines[0])")
        // 12.5 rows per second of audio, rounded up: the rows that hold audio rather than padding.
        #expect(first.count == 3 && Int(first[1]) == (samples * 125 + 159_999) / 160_000, "\(lines[0])")
        #expect(first.count == 3 && (Double(first[2]) ?? 0) > 0, "\(lines[0])")
        #expect(lines[1] == "true", "adapt(encode(melChunks)) has the rows of embed(fileAt:)")
        #expect(Array(lines[2..<(2 + chunks)]) == (0..<chunks).map { "\($0) \(width)" }, "one line per chunk, in order")
        #expect(lines[2 + chunks] == "\(3000 * chunks)", "the mel frames of the whole file")
    }
}
