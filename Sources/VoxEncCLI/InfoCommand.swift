// voxenc info --model DIR [--json]: what a model directory holds, without running it, and what this machine runs it
// with (CPU, ISA, the GEMM backend and kernel of each precision, from GEMMRouting).

import ArgumentParser
import Foundation
import VoxEnc

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Describe a model directory (layout, dimensions, stored dtype, parameters, memory, adapter, digest) and this machine (CPU, ISA, GEMM backends).")

    @Option(help: "Model directory. Default: $VOXENC_MODEL, else the installed default model.")
    var model: String?

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        do {
            let directory = try ModelLocator.resolve(model)
            // Read part by part and dropped: the description and the float32 size, never the weights at once.
            let (d, floats, _) = try ModelLoader.describe(directory: directory.path)
            let e = d.encoder
            let megabytes = Double(floats * 4) / 1_048_576
            if json {
                var object: [String: Any] = [
                    "path": d.path, "layout": d.layout.rawValue, "stored_dtype": d.storedDType,
                    "parameter_count": d.parameterCount, "f32_bytes": floats * 4, "digest_sha256": d.digest,
                    "n_mels": e.melBinCount, "d_model": e.modelDimension, "layers": e.layerCount, "heads": e.headCount,
                    "ffn": e.feedForwardDimension, "positions": e.maxPositions, "adapter": d.adapter != nil,
                ]
                if let a = d.adapter {
                    object["adapter_stack"] = a.stackFactor
                    object["adapter_output"] = a.outputDimension
                }
                object["machine"] = Self.machine
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print("model        \(d.path)")
                print("layout       \(d.layout.rawValue)")
                print("encoder      \(e.melBinCount) mel bins, d_model \(e.modelDimension), \(e.layerCount) layers, "
                    + "\(e.headCount) heads × \(e.headDimension), ffn \(e.feedForwardDimension), \(e.maxPositions) positions")
                if let a = d.adapter {
                    print("adapter      yes: stack \(a.stackFactor) → \(a.inputDimension) → \(a.outputDimension) "
                        + "(\(1500 / a.stackFactor) rows per 30 s chunk at \(Double(1500 / a.stackFactor) / 30) Hz)")
                } else {
                    print("adapter      no: embeddings are encoder states (1500 rows per 30 s chunk at 50 Hz)")
                }
                print("stored dtype \(d.storedDType)")
                print("parameters   \(d.parameterCount.formatted())")
                print(String(format: "memory (f32) %.1f MiB of weights, plus ≈ %.0f MiB of activations per chunk",
                             megabytes, Double(EncoderWorkspace.byteCount(configuration: e, capacity: 1, threads: SystemInfo.onlineCores)) / 1_048_576))
                print("digest       sha256:\(d.digest)")
                let cpu = CPU.current
                print("cpu          \(cpu.summary)")
                print("vector level \(cpu.vectorLevel); OpenBLAS kernel \(OpenBLAS.coreName); oneDNN ISA \(OneDNN.instructionSet ?? "none (not built in)")")
                for route in GEMMRouting.routes() {
                    print("gemm \(route.precision.padding(toLength: 8, withPad: " ", startingAt: 0))\(route.backend) (\(route.kernel))"
                        + (route.isSlow ? " SLOW" : "") + ": \(route.reason)")
                }
                if GEMMRouting.int8Route == nil { print("gemm int8    unavailable (needs oneDNN and AVX2)") }
            }
            for line in GEMMRouting.warnings() { FileHandleStderr.write("voxenc: \(line)\n") }
        } catch {
            throw report(error)
        }
    }

    /// The machine part of `--json`: CPU, ISA, libraries' kernels, and each precision's GEMM route.
    static var machine: [String: Any] {
        let cpu = CPU.current
        var routes: [String: Any] = [:]
        for route in GEMMRouting.routes() {
            routes[route.precision] = ["backend": route.backend, "kernel": route.kernel, "reason": route.reason,
                                       "slow": route.isSlow]
        }
        return [
            "cpu": cpu.brand, "vendor": cpu.vendor, "family": cpu.family, "model": cpu.model, "features": cpu.features,
            "vector_level": cpu.vectorLevel.description, "cores": cpu.cores, "clock_mhz": cpu.clockMHz ?? NSNull(),
            "openblas_core": OpenBLAS.coreName, "onednn_isa": OneDNN.instructionSet ?? NSNull(), "gemm": routes,
            "precisions": GEMMRouting.routes().filter { !$0.isSlow }.map(\.precision),
        ]
    }
}
