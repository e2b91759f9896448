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
            let summary = try ModelSummary.read(directory: directory.path, threads: MachineSummary.onlineCores)
            let d = summary.description, e = d.encoder
            let megabytes = Double(summary.floatBytes) / 1_048_576
            if json {
                var object: [String: Any] = [
                    "path": d.path, "layout": d.layout.rawValue, "stored_dtype": d.storedDType,
                    "parameter_count": d.parameterCount, "f32_bytes": summary.floatBytes, "digest_sha256": d.digest,
                    "n_mels": e.melBinCount, "d_model": e.modelDimension, "layers": e.layerCount, "heads": e.headCount,
                    "ffn": e.feedForwardDimension, "positions": e.maxPositions, "adapter": d.adapter != nil,
                ]
                if let state = summary.streamStateBytes { object["stream_state_bytes"] = state }
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
                if let a = d.adapter, let output = summary.adapterOutput {
                    print("adapter      yes: stack \(a.stackFactor) → \(a.inputDimension) → \(a.outputDimension) "
                        + "(\(Self.rows(output)))")
                } else {
                    print("adapter      no: embeddings are encoder states (\(Self.rows(summary.encoderOutput)))")
                }
                print("stored dtype \(d.storedDType)")
                print("parameters   \(d.parameterCount.formatted())")
                if let state = summary.streamStateBytes {
                    print(String(format: "memory (f32) %.1f MiB of weights, ≈ %.0f MiB of activations per run, "
                                 + "≈ %.0f MiB of key/value state per live stream",
                                 megabytes, Double(summary.activationBytesPerStep) / 1_048_576,
                                 Double(state) / 1_048_576))
                } else {
                    print(String(format: "memory (f32) %.1f MiB of weights, plus ≈ %.0f MiB of activations per chunk",
                                 megabytes, Double(summary.activationBytesPerStep) / 1_048_576))
                }
                print("digest       sha256:\(d.digest)")
                let machine = MachineSummary()
                print("cpu          \(machine.cpuSummary)")
                print("vector level \(machine.vectorLevel); OpenBLAS kernel \(machine.openBLASCore); oneDNN ISA \(machine.oneDNNInstructionSet ?? "none (not built in)")")
                print("built        GEMM routes \(machine.compiledRoutes.joined(separator: " ")); element-wise copies "
                    + "\(machine.compiledKernelCopies.joined(separator: " ")) (this CPU runs "
                    + "\(machine.runnableKernelCopies.joined(separator: " ")), running \(machine.elementwiseKernels))")
                for route in machine.routes {
                    print("gemm \(route.precision.padding(toLength: 8, withPad: " ", startingAt: 0))\(route.backend) (\(route.kernel))"
                        + (route.isSlow ? " SLOW" : "") + ": \(route.reason)")
                }
                if !machine.int8Runs { print("gemm int8    unavailable (needs oneDNN and AVX2)") }
            }
            for line in MachineSummary.warnings() { FileHandleStderr.write("voxenc: \(line)\n") }
        } catch {
            throw report(error)
        }
    }

    /// "375 rows per 30 s chunk at 12.5 Hz": an output's geometry in words.
    static func rows(_ output: OutputGeometry) -> String {
        func plain(_ value: Double) -> String { value == value.rounded() ? String(Int(value)) : String(value) }
        return "\(output.rowsPerStep) rows per \(plain(output.stepSeconds)) s chunk at \(plain(output.rowsPerSecond)) Hz"
    }

    /// The machine part of `--json`: CPU, ISA, libraries' kernels, and each precision's GEMM route.
    static var machine: [String: Any] {
        let machine = MachineSummary()
        var routes: [String: Any] = [:]
        for route in machine.routes {
            routes[route.precision] = ["backend": route.backend, "kernel": route.kernel, "reason": route.reason,
                                       "slow": route.isSlow]
        }
        return [
            "cpu": machine.cpuBrand, "vendor": machine.cpuVendor, "family": machine.cpuFamily, "model": machine.cpuModel,
            "features": machine.features, "vector_level": machine.vectorLevel, "cores": machine.cores,
            "clock_mhz": machine.clockMHz ?? NSNull(), "openblas_core": machine.openBLASCore,
            "onednn_isa": machine.oneDNNInstructionSet ?? NSNull(), "gemm": routes,
            "precisions": machine.routes.filter { !$0.isSlow }.map(\.precision),
            "compiled_routes": machine.compiledRoutes,
            "kernel_copies": ["compiled": machine.compiledKernelCopies, "runnable": machine.runnableKernelCopies,
                              "running": machine.elementwiseKernels] as [String: Any],
        ]
    }
}
