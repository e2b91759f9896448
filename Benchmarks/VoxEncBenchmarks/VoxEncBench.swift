// voxenc-bench: throughput benchmarks (never timed tests). Run from a release build:
//   swift run -c release voxenc-bench mel [--minutes 10] [--repeats 7] [--json]
// The front end runs on one thread; the result is seconds of audio per second of compute ("× real time").

import ArgumentParser
import Foundation
@_spi(Engine) import VoxEnc
import VoxEncAudio
import VoxEncBenchmarking
import VoxEncModel


@main
struct VoxEncBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "voxenc-bench",
        abstract: "voxenc throughput benchmarks.",
        subcommands: [MelBench.self, EncoderBench.self, KernelBench.self, FilesBench.self, OutputsBench.self])
}

struct MelBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mel",
        abstract: "Log-mel throughput on one thread: 16 kHz samples → normalised [M, 3000·N] (whole-audio clamp).")

    @Option(help: "Minutes of audio.") var minutes: Double = 10
    @Option(help: "Timed repetitions (after one warm-up).") var repeats: Int = 7
    @Option(name: .customLong("mel-bins"), help: "128 or 80.") var melBins: Int = 128
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let sampleCount = Int(minutes * 60 * 16000)
        // Speech-like noise (so that no frame is skipped as silence), deterministic.
        var state: UInt32 = 12345
        var y1: Float = 0, y2: Float = 0
        let samples = (0..<sampleCount).map { n -> Float in
            state = state &* 1_664_525 &+ 1_013_904_223
            let e = Float(state >> 8) / Float(1 << 24) - 0.5
            let y = e + 1.3 * y1 - 0.6 * y2
            y2 = y1; y1 = y
            return 0.1 * y * (1 - abs(Float((n % 4000) - 2000)) / 2000)
        }
        let spectrogram = LogMelSpectrogram(configuration: FrontEndConfiguration(melBinCount: melBins))
        _ = spectrogram.compute(samples)  // warm-up
        var seconds: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            let mel = spectrogram.compute(samples)
            let end = DispatchTime.now().uptimeNanoseconds
            precondition(mel.frameCount > 0)
            seconds.append(Double(end - start) / 1e9)
        }
        seconds.sort()
        let median = seconds[seconds.count / 2]
        let audioSeconds = Double(FrontEndConfiguration.chunkCount(sampleCount: sampleCount) * 30)
        let realTime = audioSeconds / median
        let perChunkMs = median / (audioSeconds / 30) * 1000
        if json {
            print("{\"benchmark\":\"mel\",\"mel_bins\":\(melBins),\"audio_seconds\":\(audioSeconds),\"median_seconds\":\(median),"
                + "\"min_seconds\":\(seconds.first!),\"times_real_time\":\(realTime),\"ms_per_30s\":\(perChunkMs),\"threads\":1,"
                + "\"kernel_isa\":\"\(ElementwiseKernels.instructionSet)\"}")
        } else {
            print(String(format: "mel %d bins, %.0f s of padded audio, %d runs: median %.4f s (min %.4f) → %.0f× real time, %.3f ms per 30 s chunk, 1 thread, kernels %@",
                         melBins, audioSeconds, repeats, median, seconds.first!, realTime, perChunkMs,
                         ElementwiseKernels.instructionSet))
        }
    }
}
