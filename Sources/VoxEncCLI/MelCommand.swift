// voxenc mel FILE [-o OUT.npy] [--mel-bins 128|80] [--channel N] [--force]

import ArgumentParser
import Foundation
import VoxEnc
import VoxEncAudio

struct MelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mel",
        abstract: "Write the normalised log-mel of an audio file as a float32 .npy [n_mels, 3000·chunks].",
        discussion: """
        The audio is decoded (WAV, FLAC, OGG Vorbis, Opus, MP3), averaged to mono (or one channel with \
        --channel), resampled to 16 kHz with soxr HQ, zero-padded to a multiple of 30 s, and turned into a \
        log-mel over the whole audio exactly as Hugging Face's WhisperFeatureExtractor does for Voxtral.
        """)

    @Argument(help: "Audio file to read.")
    var input: String

    @Option(name: [.short, .customLong("output")], help: "Output .npy path (default: beside the input, NAME.mel.npy).")
    var output: String?

    @Option(name: .customLong("mel-bins"), help: "Mel bins: 128 (Voxtral, Whisper large-v3) or 80 (Whisper tiny…large-v2).")
    var melBins: Int = 128

    @Option(help: "Use only this channel (0-based) instead of the average of all channels.")
    var channel: Int?

    @Flag(help: "Overwrite an existing output.")
    var force = false

    func validate() throws {
        guard melBins == 128 || melBins == 80 else {
            throw ValidationError("--mel-bins must be 128 or 80, not \(melBins)")
        }
        if let channel, channel < 0 { throw ValidationError("--channel must be ≥ 0") }
    }

    func run() throws {
        let outputPath = output ?? Self.defaultOutput(for: input)
        do {
            try AtomicFileWriter.checkTarget(outputPath, overwrite: force)  // before decoding, not after
            let waveform = try Waveform(contentsOf: input, channels: channel.map(ChannelSelection.channel) ?? .average)
            warn(input, waveform.warnings)
            let spectrogram = LogMelSpectrogram(configuration: FrontEndConfiguration(melBinCount: melBins))
            let mel = spectrogram.compute(waveform.samples)
            try NumpyArray.write(shape: [mel.melBinCount, mel.frameCount], values: mel.values, to: outputPath,
                                 overwrite: force)
            print("\(outputPath): log-mel [\(mel.melBinCount), \(mel.frameCount)] float32, \(mel.chunkCount) chunk(s), "
                + String(format: "%.3f s", waveform.durationSeconds)
                + " of \(waveform.sourceFormat) at \(waveform.sourceSampleRate) Hz, \(waveform.sourceChannelCount) channel(s)")
        } catch {
            throw report(error)
        }
    }

    static func defaultOutput(for input: String) -> String {
        let url = URL(fileURLWithPath: input)
        return url.deletingPathExtension().path + ".mel.npy"
    }
}
