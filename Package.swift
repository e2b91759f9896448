// swift-tools-version: 6.0
// voxenc: audio → Voxtral-style embeddings, natively on Linux.
// System libraries (Debian): pkg-config libfftw3-dev libopenblas-dev libsndfile1-dev libsoxr-dev libssl-dev libdnnl-dev
import PackageDescription

import Foundation

// MARK: - Vector instructions
// The hot element-wise loops (GELU, softmax, LayerNorm, the int8 epilogue, the log-mel filterbank and log10) live in
// the C target CVoxEncKernels, compiled for AVX-512, AVX2 + FMA and baseline SSE2 with per-function target
// attributes and chosen at run time from the CPU (VOXENC_KERNEL_ISA lowers the choice). No -march and no unsafe
// flags: a package depending on voxenc by version builds, and one binary runs on any x86-64 CPU.

// MARK: - oneDNN (int8, bf16, and float32 where OpenBLAS does not know the CPU)
// `--precision int8` runs its integer GEMMs through oneDNN (Debian: libdnnl-dev, no pkg-config file), bf16 and the
// packed float32 route run on its matmul primitive, and float32 GEMMs run on oneDNN where OpenBLAS's kernels do not
// fit the CPU (GEMMRouting.swift). On x86-64 Linux it is required: a missing header stops the build here rather
// than leaving int8, bf16 and the packed route silently out of it (and out of the tests). VOXENC_ONEDNN=0 builds
// without it, on purpose, and says so: int8 and bf16 are then refused with a typed error, float32 stays on OpenBLAS.
// Elsewhere it is built in when its header is installed. `voxenc info --json` lists what was built
// ("compiled_routes"); RouteCoverageTests fails a test run that lacks a route unless VOXENC_ONEDNN=0 is set.
let oneDNNHeader = "/usr/include/oneapi/dnnl/dnnl.h"
let oneDNNRefused = ProcessInfo.processInfo.environment["VOXENC_ONEDNN"] == "0"
let oneDNNInstalled = FileManager.default.fileExists(atPath: oneDNNHeader)
#if os(Linux) && arch(x86_64)
let oneDNNRequired = true
#else
let oneDNNRequired = false
#endif
if oneDNNRequired && !oneDNNRefused && !oneDNNInstalled {
    FileHandle.standardError.write(Data(("error: voxenc: oneDNN is required on x86-64 Linux and \(oneDNNHeader) is "
        + "missing. Install it (apt-get install libdnnl-dev), or build without int8, bf16 and the packed float32 "
        + "route on purpose with VOXENC_ONEDNN=0.\n").utf8))
    exit(1)
}
let oneDNN = !oneDNNRefused && oneDNNInstalled
if oneDNNRefused {
    print("voxenc: building WITHOUT oneDNN (VOXENC_ONEDNN=0): no int8, no bf16, no packed float32 route")
} else if !oneDNN {
    print("voxenc: building without oneDNN (\(oneDNNHeader) not found): no int8, no bf16, no packed float32 route")
}
let modelDependencies: [Target.Dependency] = ["CVoxEncKernels", "COpenBLAS", "CCrypto"] + (oneDNN ? ["CDNNL", "CVoxEncMatmul"] : [])
let modelSettings: [SwiftSetting] = oneDNN ? [.define("VOXENC_ONEDNN")] : []

// oneDNN matmul primitives over weights packed once (float32 on AVX-512, bf16, int8 with brgemm); only with oneDNN.
let matmulTargets: [Target] = oneDNN ? [
    .target(name: "CVoxEncMatmul", dependencies: ["CVoxEncKernels"], cSettings: [.define("_GNU_SOURCE")],
            linkerSettings: [.linkedLibrary("dnnl"), .linkedLibrary("gomp")]),
] : []

let package = Package(
    name: "voxenc",
    products: [
        .library(name: "VoxEncAudio", targets: ["VoxEncAudio"]),
        .library(name: "VoxEnc", targets: ["VoxEnc"]),
        .executable(name: "voxenc", targets: ["VoxEncCLI"]),
        // The C ABI: libvoxenc.so + Sources/CVoxEncABI/include/voxenc.h (docs/bindings.md; the Python package loads it).
        .library(name: "voxenc-c", type: .dynamic, targets: ["VoxEncC"]),
        .executable(name: "voxenc-bench", targets: ["VoxEncBenchmarks"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // `voxenc serve` only (Sources/VoxEncServer); the libraries depend on none of these.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-async-algorithms", from: "1.1.4"),  // the WebSocket's read-ahead
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),  // `voxenc pull`, tests
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),  // tests only: docs/openapi.yaml
    ],
    targets: [
        // MARK: - System libraries (found through pkg-config; never absolute paths)
        .systemLibrary(name: "CFFTW3", pkgConfig: "fftw3f", providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CSndFile", pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(name: "CSoxr", pkgConfig: "soxr", providers: [.apt(["libsoxr-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),  // no .pc file: the module map links it

        // MARK: - C code of our own (C11, no -march): CPUID (cpu.c) and the element-wise kernels with run-time ISA
        // dispatch (include/voxenc_kernels.h)
        .target(name: "CVoxEncKernels", linkerSettings: [.linkedLibrary("m")]),

        // MARK: - Libraries
        // Front end on its own: file → 16 kHz mono → log-mel chunks. Links sndfile, soxr, FFTW; no BLAS.
        .target(name: "VoxEncAudio", dependencies: ["CVoxEncKernels", "CFFTW3", "CSndFile", "CSoxr"]),
        // Weights, kernels, encoder and adapter. Links OpenBLAS (oneDNN for int8, libcrypto for the weights'
        // SHA-256); knows nothing about audio files.
        .target(name: "VoxEncModel", dependencies: modelDependencies, swiftSettings: modelSettings),
        // Public facade: load a model once, embed files or buffers; output formats (.npy, safetensors).
        .target(name: "VoxEnc", dependencies: ["VoxEncAudio", "VoxEncModel"]),
        // The benchmark harness behind `voxenc bench` and `voxenc-bench`: random weights, FLOP counts, the roofline
        // of every GEMM route, per-stage timings, peak RSS. Not part of the library apps link.
        .target(name: "VoxEncBenchmarking", dependencies: ["VoxEnc", "VoxEncAudio", "VoxEncModel"]),

        // The C ABI: the header as a C target (so that Swift implements the very declarations C sees), the functions
        // in Swift (@_cdecl).
        .target(name: "CVoxEncABI", exclude: ["build-libvoxenc.sh", "voxenc.map"]),
        .target(name: "VoxEncC", dependencies: ["VoxEnc", "CVoxEncABI"]),

        // The HTTP service behind `voxenc serve` (docs/serve.md): Hummingbird 2 on SwiftNIO, lifecycle, logs, metrics.
        .target(name: "VoxEncServer", dependencies: [
            "VoxEnc",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "MultipartKit", package: "multipart-kit"),
        ]),

        // `voxenc pull` (docs/pull.md): only the audio tensors of a Hugging Face-style repository, with HTTP Range
        // requests (AsyncHTTPClient; TLS through swift-nio-ssl, so no system TLS library is needed at run time).
        .target(name: "VoxEncHub", dependencies: [
            "VoxEnc", "VoxEncModel", "CCrypto",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),

        // MARK: - Executables
        .executableTarget(name: "VoxEncCLI", dependencies: [
            "VoxEnc", "VoxEncServer", "VoxEncBenchmarking", "VoxEncHub",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "VoxEncBenchmarks", dependencies: [
            "VoxEnc", "VoxEncBenchmarking", "VoxEncModel", "VoxEncAudio", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Benchmarks/VoxEncBenchmarks"),

        // MARK: - Tests
        .target(name: "VoxEncTestSupport", dependencies: ["VoxEnc", "VoxEncModel", "VoxEncAudio", "CSndFile", "CVoxEncKernels"], path: "Tests/VoxEncTestSupport"),
        .testTarget(name: "VoxEncAudioTests", dependencies: ["VoxEncAudio", "VoxEnc", "VoxEncTestSupport", "CVoxEncKernels"]),
        .testTarget(name: "VoxEncModelTests", dependencies: ["VoxEncModel", "VoxEnc", "VoxEncTestSupport", "CVoxEncKernels"]),
        .testTarget(name: "VoxEncTests", dependencies: ["VoxEnc", "VoxEncModel", "VoxEncAudio", "VoxEncTestSupport"]),
        .testTarget(name: "VoxEncCLITests", dependencies: ["VoxEncCLI", "VoxEnc", "VoxEncModel", "VoxEncAudio", "VoxEncTestSupport"]),
        .testTarget(name: "VoxEncServerTests", dependencies: [
            "VoxEncServer", "VoxEnc", "VoxEncModel", "VoxEncAudio", "VoxEncTestSupport", "VoxEncCLI",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            .product(name: "Yams", package: "Yams"),
        ]),
    ] + matmulTargets
)
