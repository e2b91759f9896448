// voxenc-bench kernels: the encoder's non-GEMM kernels and attention, one layer of a preset shape, timed side by
// side (variants interleaved, median of the repeats) — the numbers behind the choices in Attention.swift and
// GELU.swift, LayerNorm.swift and Softmax.swift. Never a test: timings are noisy on shared machines.
//   swift build -c release && .build/release/voxenc-bench kernels --threads 2

import ArgumentParser
import Foundation
@_spi(Engine) import VoxEnc
import VoxEncAudio
import VoxEncBenchmarking
import VoxEncModel

struct KernelBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "One encoder layer's attention (per row block), GELU, LayerNorm and bias adds, ms per layer.")

    @Option(help: "voxtral-mini, voxtral-small, whisper-large-v3, whisper-base, whisper-tiny.")
    var preset: String = "voxtral-mini"
    @Option(help: "Thread budget.") var threads: Int = 2
    @Option(help: "Timed repetitions (after one warm-up), interleaved across variants.") var repeats: Int = 5
    @Option(help: "Comma-separated attention row blocks to compare.") var blocks: String = "128,256,512,1500"
    @Option(help: "float32 GEMM backend for attention: openblas or onednn (default: GEMMRouting's choice).")
    var gemm: String?

    func validate() throws {
        guard ModelPreset(rawValue: preset) != nil else { throw ValidationError("unknown preset \(preset)") }
        if let gemm, FloatGEMM(rawValue: gemm) == nil { throw ValidationError("--gemm must be openblas or onednn") }
    }

    func run() throws {
        Parallel.withThreads(threads) { measure() }
    }

    func measure() {
        let c = ModelPreset(rawValue: preset)!.encoder
        let backend = GEMMRouting.resolve(gemm.flatMap(FloatGEMM.init(rawValue:))).backend
        let t = c.maxPositions, d = c.modelDimension, f = c.feedForwardDimension, h = c.headCount
        let rowBlocks = blocks.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func random() -> Float {  // SplitMix64 → uniform [−1, 1)
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Float((z ^ (z >> 31)) >> 40) / Float(1 << 23) - 1
        }
        // q·kᵀ/√Dh of these inputs spans a few units, like a trained layer's scores.
        let qkv = UnsafeMutableBufferPointer<Float>.allocate(capacity: t * 3 * d)
        for i in qkv.indices { qkv[i] = random() * 0.6 }
        let attended = UnsafeMutableBufferPointer<Float>.allocate(capacity: t * d)
        let scores = UnsafeMutableBufferPointer<Float>.allocate(
            capacity: Attention.scratchCount(frames: t, threads: threads, block: rowBlocks.max() ?? t))
        let wide = UnsafeMutableBufferPointer<Float>.allocate(capacity: t * f)
        let narrow = UnsafeMutableBufferPointer<Float>.allocate(capacity: t * d)
        let normed = UnsafeMutableBufferPointer<Float>.allocate(capacity: t * d)
        for i in wide.indices { wide[i] = random() * 3 }
        for i in narrow.indices { narrow[i] = random() * 3 }
        let bias = (0..<f).map { _ in random() }
        let norm = LayerNormWeights(weight: (0..<d).map { _ in 1 + random() * 0.1 }, bias: (0..<d).map { _ in random() })
        defer { for b in [qkv, attended, scores, wide, narrow, normed] { b.deallocate() } }

        var variants: [(name: String, flops: Double, body: () -> Void)] = []
        for block in rowBlocks {
            variants.append(("attention, row block \(block)", 4 * Double(t * t * d), {
                Attention.apply(qkv: qkv.baseAddress!, frames: t, width: d, heads: h, gemm: backend, scores: scores.baseAddress!,
                                threads: threads, block: block, into: attended.baseAddress!)
            }))
        }
        // bf16 (`--precision bf16`): the same attention with q·kᵀ and P·v on bf16 operands, where the CPU has native
        // bf16.
        let rounded = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: t * 3 * d)
        defer { rounded.deallocate() }
        if Precision.bfloat16.isSupported {
            for block in rowBlocks {
                variants.append(("attention bf16, row block \(block)", 4 * Double(t * t * d), {
                    Attention.apply(qkv: qkv.baseAddress!, frames: t, width: d, heads: h, gemm: backend,
                                    scores: scores.baseAddress!, threads: threads, block: block,
                                    bfloat16QKV: rounded.baseAddress!, into: attended.baseAddress!)
                }))
            }
        }
        // Each worker cycles through its own block of scores, as attention's workers do (Attention.scratchCount).
        let blockRows = min(rowBlocks.max() ?? t, t)
        variants.append(("softmax rows alone [H·T, T]", 0, {
            Parallel.forEachRange(threads) { workers in
                for worker in workers {
                    let own = scores.baseAddress! + worker * blockRows * (t + 1)
                    for r in stride(from: worker, to: h * t, by: threads) {
                        _ = Softmax.exponentiateRow(own + (r % blockRows) * t, width: t)
                    }
                }
            }
        }))
        variants.append(("GELU [T, F]", 0, { GELU.applyInPlace(wide.baseAddress!, count: t * f) }))
        variants.append(("LayerNorm [T, D]", 0, {
            LayerNorm.apply(narrow.baseAddress!, rows: t, width: d, weights: norm, epsilon: 1e-5, into: normed.baseAddress!)
        }))
        variants.append(("bias add [T, F]", 0, {
            bias.withUnsafeBufferPointer { Linear.addRowVector($0.baseAddress!, to: wide.baseAddress!, rows: t, columns: f) }
        }))

        var seconds = [[Double]](repeating: [], count: variants.count)
        for round in 0...repeats {
            for (i, variant) in variants.enumerated() {
                let start = DispatchTime.now().uptimeNanoseconds
                variant.body()
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                if round > 0 { seconds[i].append(elapsed) }  // round 0 warms up
            }
        }
        print("f32 GEMM \(backend.rawValue) (\(backend.kernel)); CPU \(CPU.current.summary)")
        print("\(preset): T \(t), D \(d), F \(f), H \(h), \(threads) thread(s), kernels \(ElementwiseKernels.instructionSet); median of \(repeats), ms per layer "
              + "(× \(c.layerCount) layers per chunk)")
        for (i, variant) in variants.enumerated() {
            let median = seconds[i].sorted()[seconds[i].count / 2]
            let rate = variant.flops > 0 ? String(format: "  %6.1f GFLOP/s", variant.flops / median / 1e9) : ""
            let name = variant.name.padding(toLength: 32, withPad: " ", startingAt: 0)
            print("  " + name + String(format: " %8.2f ms  %7.1f ms per chunk", median * 1000,
                         median * 1000 * Double(c.layerCount)) + rate)
        }
    }
}
